import { loadProto } from '../../proto/load.js';
import { decodeMessage, encodeMessage } from '../ttrpc/codec.js';

/** Codecs and types for the NRI messages FleetBoard uses (proto/nri/api.proto). */

export const RUNTIME_SERVICE = 'nri.pkg.api.v1alpha1.Runtime';
export const PLUGIN_SERVICE = 'nri.pkg.api.v1alpha1.Plugin';
/** The NRI API release our proto subset follows; the runtime only logs it. */
export const NRI_API_VERSION = 'v0.12.0';

/** Mux connection ids: the runtime calls the plugin on 1, the plugin calls the runtime on 2. */
export const PLUGIN_SERVICE_CONN = 1;
export const RUNTIME_SERVICE_CONN = 2;

export const NriEvent = {
  RUN_POD_SANDBOX: 1,
  STOP_POD_SANDBOX: 2,
  REMOVE_POD_SANDBOX: 3,
  /** Highest event containerd 1.7 accepts in a subscription. */
  REMOVE_CONTAINER: 11,
} as const;

/** Subscription bit of an event: 1 << (event - 1). */
export function eventMask(events: readonly number[]): number {
  let mask = 0;
  for (const e of events) {
    if (e < 1 || e > NriEvent.REMOVE_CONTAINER) throw new RangeError(`NRI event ${e} cannot be subscribed to`);
    mask |= 1 << (e - 1);
  }
  return mask;
}

export interface LinuxNamespace {
  type: string;
  path: string;
}

export interface PodSandbox {
  id: string;
  name: string;
  uid: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: { namespaces: LinuxNamespace[] } | null;
  ips: string[];
}

export interface ConfigureRequest {
  config: string;
  runtimeName: string;
  runtimeVersion: string;
  registrationTimeout: number;
  requestTimeout: number;
  nriVersion: string;
}

export interface SynchronizeRequest {
  pods: PodSandbox[];
  more: boolean;
}

export interface StateChangeEvent {
  event: number;
  pod: PodSandbox | null;
}

const root = loadProto('nri/api.proto');
const type = (name: string) => root.lookupType(`nri.pkg.api.v1alpha1.${name}`);
const T = {
  RegisterPluginRequest: type('RegisterPluginRequest'),
  ConfigureRequest: type('ConfigureRequest'),
  ConfigureResponse: type('ConfigureResponse'),
  SynchronizeRequest: type('SynchronizeRequest'),
  SynchronizeResponse: type('SynchronizeResponse'),
  PodRequest: type('RunPodSandboxRequest'),
  StateChangeEvent: type('StateChangeEvent'),
  Empty: type('Empty'),
};

export const encodeRegister = (pluginName: string, pluginIdx: string): Buffer =>
  encodeMessage(T.RegisterPluginRequest, { pluginName, pluginIdx, NRIVersion: NRI_API_VERSION });

export function decodeConfigure(b: Buffer): ConfigureRequest {
  const raw = decodeMessage(T.ConfigureRequest, b, 'NRI ConfigureRequest') as unknown as ConfigureRequest & { NRIVersion: string };
  return { ...raw, nriVersion: raw.NRIVersion };
}

export const encodeConfigureResponse = (events: number, failRequest: boolean): Buffer =>
  encodeMessage(T.ConfigureResponse, { events, failurePolicy: { failRequest } });

export const decodeSynchronize = (b: Buffer) => decodeMessage(T.SynchronizeRequest, b, 'NRI SynchronizeRequest') as unknown as SynchronizeRequest;
export const encodeSynchronizeResponse = (more: boolean): Buffer => encodeMessage(T.SynchronizeResponse, { update: [], more });

/** Run/Stop/RemovePodSandboxRequest share one shape: `PodSandbox pod = 1`. */
export const decodePodRequest = (b: Buffer, what: string): PodSandbox | null =>
  (decodeMessage(T.PodRequest, b, `NRI ${what}`) as unknown as { pod: PodSandbox | null }).pod;

export const decodeStateChange = (b: Buffer) => decodeMessage(T.StateChangeEvent, b, 'NRI StateChangeEvent') as unknown as StateChangeEvent;

/** Every pod RPC answers with an empty message; the empty encoding is zero bytes. */
export const EMPTY = Buffer.alloc(0);
