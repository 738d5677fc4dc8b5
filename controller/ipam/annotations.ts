import { IpamError } from './errors.js';
import { macForAddress } from './addressPool.js';
import { addressToInt, contains, firstUsableAddress, formatCidr, intToAddress, lastAddress, parseCidr } from './cidr.js';

/**
 * The pod annotations that record a pod's address on the parallel network
 * (DESIGN "Stable interfaces"). They are the durable record of node IPAM:
 * users and scripts read them, and a restarted controller rebuilds its pool
 * from them, so decoding treats them as untrusted input.
 */
export const podNetworkAnnotations = {
  ipAddress: 'fleetboard.io/ip_address',
  cidr: 'fleetboard.io/cidr',
  gateway: 'fleetboard.io/gateway',
  macAddress: 'fleetboard.io/mac_address',
  routes: 'fleetboard.io/routes',
  allocated: 'fleetboard.io/allocated',
  nicType: 'fleetboard.io/pod_nic_type',
} as const;

export type PodNetworkAnnotation = (typeof podNetworkAnnotations)[keyof typeof podNetworkAnnotations];

/** The only NIC type FleetBoard creates. */
export const VETH_PAIR = 'veth-pair';

export interface PodRoute {
  /** Destination network, CIDR. */
  dst: string;
  /** Next hop address. */
  gw: string;
}

/** A pod's allocation on the parallel network. */
export interface PodNetwork {
  ipAddress: string;
  /** The node CIDR the address comes from. */
  cidr: string;
  gateway: string;
  macAddress: string;
  routes: PodRoute[];
  nicType: typeof VETH_PAIR;
}

/** The allocation of `ipAddress` from `nodeCidr`: gateway, MAC and the route to the global CIDR follow from them. */
export function podNetworkFor(nodeCidr: string, ipAddress: string, globalCidr: string): PodNetwork {
  const cidr = parseCidr(nodeCidr);
  const ip = addressToInt(ipAddress);
  if (!contains(cidr, ip)) throw new IpamError('OUT_OF_RANGE', `${ipAddress} is outside node CIDR ${formatCidr(cidr)}: allocate from that CIDR's pool`);
  const gateway = intToAddress(firstUsableAddress(cidr));
  return {
    ipAddress: intToAddress(ip),
    cidr: formatCidr(cidr),
    gateway,
    macAddress: macForAddress(ipAddress),
    routes: [{ dst: formatCidr(parseCidr(globalCidr)), gw: gateway }],
    nicType: VETH_PAIR,
  };
}

export function encodePodNetwork(alloc: PodNetwork): Record<PodNetworkAnnotation, string> {
  const a = podNetworkAnnotations;
  return {
    [a.ipAddress]: alloc.ipAddress,
    [a.cidr]: alloc.cidr,
    [a.gateway]: alloc.gateway,
    [a.macAddress]: alloc.macAddress,
    [a.routes]: JSON.stringify(alloc.routes.map(({ dst, gw }) => ({ dst, gw }))),
    [a.allocated]: 'true',
    [a.nicType]: alloc.nicType,
  };
}

/** Merge-patch annotations that remove every allocation annotation (null deletes a key). */
export function clearPodNetworkPatch(): Record<PodNetworkAnnotation, null> {
  const a = podNetworkAnnotations;
  return {
    [a.ipAddress]: null,
    [a.cidr]: null,
    [a.gateway]: null,
    [a.macAddress]: null,
    [a.routes]: null,
    [a.allocated]: null,
    [a.nicType]: null,
  };
}

function bad(key: string, problem: string, cause?: unknown): IpamError {
  return new IpamError('BAD_ANNOTATION', `pod annotation ${key} ${problem}; remove the fleetboard.io/ annotations to have the pod re-allocated`, {
    cause,
  });
}

/** Runs a parser whose IpamError message becomes the reason an annotation is malformed. */
function parsed<T>(key: string, value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (err) {
    const why = err instanceof IpamError ? err.message : String(err);
    throw bad(key, `is ${JSON.stringify(value)}: ${why}`, err);
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function decodeRoutes(key: string, text: string): PodRoute[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad(key, `is not JSON (${JSON.stringify(text.slice(0, 80))})`, err);
  }
  if (!Array.isArray(value)) throw bad(key, 'must be a JSON array of {"dst":"<cidr>","gw":"<ip>"}');
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw bad(key, `entry ${i} must be an object {"dst":"<cidr>","gw":"<ip>"}`);
    }
    // Fields beyond dst/gw are ignored so a later writer may add some without breaking this reader.
    const { dst, gw } = entry as Record<string, unknown>;
    if (typeof dst !== 'string' || typeof gw !== 'string') throw bad(key, `entry ${i} needs string fields "dst" and "gw"`);
    return {
      dst: parsed(`${key} entry ${i} dst`, dst, (v) => formatCidr(parseCidr(v))),
      gw: parsed(`${key} entry ${i} gw`, gw, (v) => intToAddress(addressToInt(v))),
    };
  });
}

/**
 * The allocation recorded on a pod; undefined when the pod has none of the
 * annotations. Anything malformed or inconsistent, including a partial set,
 * is a BAD_ANNOTATION error naming the annotation and the problem.
 */
export function decodePodNetwork(annotations: Readonly<Record<string, unknown>> | undefined): PodNetwork | undefined {
  const a = podNetworkAnnotations;
  const keys = Object.values(a);
  if (!annotations || !keys.some((k) => Object.hasOwn(annotations, k))) return undefined;
  const get = (key: PodNetworkAnnotation): string => {
    const value = Object.hasOwn(annotations, key) ? annotations[key] : undefined;
    if (value === undefined) throw bad(key, 'is missing while other fleetboard.io/ allocation annotations are present');
    if (typeof value !== 'string') throw bad(key, `must be a string, not ${typeof value}`);
    return value;
  };
  const allocated = get(a.allocated);
  if (allocated !== 'true') throw bad(a.allocated, `is ${JSON.stringify(allocated)}, expected "true"`);
  const nicType = get(a.nicType);
  if (nicType !== VETH_PAIR) throw bad(a.nicType, `is ${JSON.stringify(nicType)}; the only NIC type is "${VETH_PAIR}"`);

  const cidr = parsed(a.cidr, get(a.cidr), parseCidr);
  const cidrText = formatCidr(cidr);
  const ip = parsed(a.ipAddress, get(a.ipAddress), addressToInt);
  const gateway = parsed(a.gateway, get(a.gateway), addressToInt);
  if (!contains(cidr, gateway)) throw bad(a.gateway, `${intToAddress(gateway)} is outside the pod's CIDR ${cidrText}`);
  if (!contains(cidr, ip)) throw bad(a.ipAddress, `${intToAddress(ip)} is outside the pod's CIDR ${cidrText}`);
  if (ip === gateway) throw bad(a.ipAddress, `${intToAddress(ip)} equals ${a.gateway}; no pod may hold the gateway`);
  if (cidr.prefix <= 30 && (ip === cidr.base || ip === lastAddress(cidr))) {
    throw bad(a.ipAddress, `${intToAddress(ip)} is the network or broadcast address of ${cidrText}, not a host address`);
  }
  const mac = get(a.macAddress).toLowerCase();
  if (!MAC.test(mac)) throw bad(a.macAddress, `is ${JSON.stringify(get(a.macAddress))}, not a MAC address like 0a:58:0a:70:01:05`);

  return {
    ipAddress: intToAddress(ip),
    cidr: cidrText,
    gateway: intToAddress(gateway),
    macAddress: mac,
    routes: decodeRoutes(a.routes, get(a.routes)),
    nicType: VETH_PAIR,
  };
}
