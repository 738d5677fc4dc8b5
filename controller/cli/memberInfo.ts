import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { DaemonSetKind, DeploymentKind, type Container } from '../objects/apps.js';
import { decodeObject } from '../objects/decode.js';
import { isNotFound } from '../kube/apiErrors.js';
import { DEFAULT_GLOBAL_CIDR } from '../options.js';
import { AGENT_NAMESPACE } from './join.js';

export const CNF_DAEMONSET = 'fleetboard-cnf';
/** Selects the cnf pods (the DaemonSet's). */
export const CNF_SELECTOR = 'fleetboard.io/role=cnf';
export const CROSSDNS_DEPLOYMENT = 'fleetboard-crossdns';

export class MemberError extends Error {
  override name = 'MemberError';
}

/** A member cluster as its agent install describes it. */
export interface MemberInfo {
  clusterID: string;
  /** The DNS zones crossdns serves (clusterset.local and the cluster.zone). */
  zones: string[];
  cnfDesired: number;
  cnfReady: number;
  /** The FleetBoard image the cluster runs (for the benchmark's pods). */
  image: string;
  globalCidr: string;
  kc: KubeConfig;
}

/** The value of `--flag=value` in a container's command and args. */
export function flagValue(c: Container | undefined, flag: string): string | undefined {
  const prefix = `--${flag}=`;
  return [...(c?.command ?? []), ...(c?.args ?? [])].find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

export async function readMemberInfo(kc: KubeConfig, namespace = AGENT_NAMESPACE): Promise<MemberInfo> {
  const apps = kc.makeApiClient(AppsV1Api);
  const where = kc.getCurrentCluster()?.server ?? 'this cluster';
  const notInstalled = (what: string) => (err: unknown) => {
    if (isNotFound(err)) throw new MemberError(`${where}: no ${what} in ${namespace}; is the fleetboard-agent chart installed there?`);
    throw err;
  };
  const cnf = decodeObject(DaemonSetKind, await apps.readNamespacedDaemonSet({ name: CNF_DAEMONSET, namespace }).catch(notInstalled(`DaemonSet ${CNF_DAEMONSET}`)));
  const dns = decodeObject(DeploymentKind, await apps.readNamespacedDeployment({ name: CROSSDNS_DEPLOYMENT, namespace }).catch(notInstalled(`Deployment ${CROSSDNS_DEPLOYMENT}`)));
  const controller = cnf.spec.template.spec.containers.find((c) => c.name === 'controller');
  const clusterID = flagValue(controller, 'cluster-id');
  if (!clusterID) throw new MemberError(`${where}: the agent is installed without a hub (no cluster.clusterID); join it with fleetctl join first`);
  const zones = (flagValue(dns.spec.template.spec.containers[0], 'zones') ?? '').split(',').filter(Boolean);
  return { clusterID, zones, cnfDesired: cnf.status.desiredNumberScheduled ?? 0, cnfReady: cnf.status.numberReady ?? 0, image: controller?.image ?? '', globalCidr: flagValue(controller, 'global-cidr') ?? DEFAULT_GLOBAL_CIDR, kc };
}
