import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ignoreNotFound } from '../kube/apiErrors.js';
import { API_WRITE_CONCURRENCY, eachLimited } from '../kube/eachLimited.js';
import { importMadeByFleetBoard, MCS_GROUP, MCS_VERSION, SERVICE_IMPORT_PLURAL } from './api.js';
import type { LocalImports } from './localImports.js';

/**
 * Deletes every ServiceImport and imported EndpointSlice FleetBoard made in
 * this cluster: what a cluster the hub no longer has must not keep, since
 * nothing would update it again. Hand-written imports stay. Returns how many
 * imports went.
 */
export async function withdrawImports(kc: KubeConfig, local: LocalImports): Promise<number> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const imports = local.imports().filter(importMadeByFleetBoard);
  await eachLimited(imports, API_WRITE_CONCURRENCY, (i) =>
    custom.deleteNamespacedCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_IMPORT_PLURAL, namespace: i.metadata.namespace ?? '', name: i.metadata.name }).catch(ignoreNotFound),
  );
  // LocalImports watches only the EndpointSlices FleetBoard manages, which in a member are the imported ones.
  await eachLimited(local.slices(), API_WRITE_CONCURRENCY, (s) => discovery.deleteNamespacedEndpointSlice({ namespace: s.metadata.namespace ?? '', name: s.metadata.name }).catch(ignoreNotFound));
  return imports.length;
}
