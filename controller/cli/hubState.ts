import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { FLEETBOARD_GROUP, FLEETBOARD_VERSION, memberNamespace, PEER_PLURAL, type Peer } from '../clusterset/peer.js';
import { isNotFound } from '../kube/apiErrors.js';
import { LABEL_MANAGED_BY, LABEL_SOURCE_CLUSTER, MANAGED_BY, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL, type ServiceImport } from '../mcs/api.js';

/** Everything the hub knows about the clusterset, read once. */
export interface HubState {
  peers: Peer[];
  services: ServiceImport[];
  slices: V1EndpointSlice[];
}

/** A member's Peer in its hub namespace; undefined when the cluster has not joined. */
export function readMemberPeer(hub: KubeConfig, clusterID: string): Promise<Peer | undefined> {
  const api = hub.makeApiClient(CustomObjectsApi);
  return (api.getNamespacedCustomObject({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL, namespace: memberNamespace(clusterID), name: clusterID }) as Promise<Peer>).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

export async function readHubState(hub: KubeConfig): Promise<HubState> {
  const custom = hub.makeApiClient(CustomObjectsApi);
  const [peers, services, slices] = await Promise.all([
    custom.listCustomObjectForAllNamespaces({ group: FLEETBOARD_GROUP, version: FLEETBOARD_VERSION, plural: PEER_PLURAL }) as Promise<{ items: Peer[] }>,
    custom.listCustomObjectForAllNamespaces({ group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL, labelSelector: LABEL_SOURCE_CLUSTER }) as Promise<{ items: ServiceImport[] }>,
    hub.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces({ labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` }),
  ]);
  return { peers: peers.items, services: services.items, slices: slices.items };
}
