import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { forwardedZones, forwardingStanzas } from '../../controller/cli/corefile.js';

/**
 * What a user does once per cluster: add the stanzas to CoreDNS's Corefile
 * (kube-system/coredns) unless a zone is there already, and restart CoreDNS
 * so it reads them at once (its `reload` would within a couple of minutes).
 * Returns whether anything changed.
 */
export async function forwardClusterDns(kc: KubeConfig, zones: readonly string[], crossdnsIp: string): Promise<boolean> {
  const core = kc.makeApiClient(CoreV1Api);
  const cm = await core.readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' });
  const corefile = cm.data?.Corefile ?? '';
  const served = forwardedZones(corefile);
  const missing = zones.filter((z) => !served.has(z));
  if (missing.length === 0) return false;
  cm.data = { ...cm.data, Corefile: `${corefile.trimEnd()}\n${forwardingStanzas(missing, crossdnsIp)}` };
  await core.replaceNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system', body: cm });
  const pods = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
  for (const p of pods.items) await core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace: 'kube-system' });
  return true;
}
