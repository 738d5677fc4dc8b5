import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, memberNamespace, PEER_PLURAL } from '../clusterset/peer.js';
import { isNotFound } from '../kube/apiErrors.js';
import { LABEL_MANAGED_BY, LABEL_SOURCE_CLUSTER, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL } from '../mcs/api.js';
import { decodeItems, decodeObject, type ObjectDecodeError } from '../objects/decode.js';
import { EndpointSliceKind, type EndpointSlice } from '../objects/discovery.js';
import { PeerKind, type Peer } from '../objects/fleetboard.js';
import { ServiceImportKind, type ServiceImport } from '../objects/mcs.js';

/** Everything the hub knows about the clusterset, read once. */
export interface HubState {
  peers: Peer[];
  services: ServiceImport[];
  slices: EndpointSlice[];
  /** Why objects were left out: each that cannot be read. */
  unreadable: string[];
}

/** A member's Peer in its hub namespace; undefined when the cluster has not joined. */
export async function readMemberPeer(hub: KubeConfig, clusterID: string): Promise<Peer | undefined> {
  const api = hub.makeApiClient(CustomObjectsApi);
  const raw: unknown = await api.getNamespacedCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace: memberNamespace(clusterID), name: clusterID }).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  return raw === undefined ? undefined : decodeObject(PeerKind, raw);
}

export async function readHubState(hub: KubeConfig): Promise<HubState> {
  const custom = hub.makeApiClient(CustomObjectsApi);
  const [peers, services, slices] = await Promise.all([
    custom.listCustomObjectForAllNamespaces({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL }) as Promise<{ items?: unknown[] }>,
    custom.listCustomObjectForAllNamespaces({ group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL, labelSelector: LABEL_SOURCE_CLUSTER }) as Promise<{ items?: unknown[] }>,
    hub.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces({ labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` }),
  ]);
  const unreadable: string[] = [];
  const skip = (err: ObjectDecodeError) => unreadable.push(err.message);
  return {
    peers: decodeItems(PeerKind, peers.items, skip),
    services: decodeItems(ServiceImportKind, services.items, skip),
    slices: decodeItems(EndpointSliceKind, slices.items, skip),
    unreadable,
  };
}
