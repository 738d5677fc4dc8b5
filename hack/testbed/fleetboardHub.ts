import type { KubernetesObject } from '@kubernetes/client-node';
import { renderChart, secondsValue } from './charts.js';

/**
 * FleetBoard's hub as the testbed installs it: the fleetboard chart rendered
 * with these options as its values.
 */
export interface HubInstallOptions {
  /** tunnel.endpoint: the address members dial. */
  endpoint: string;
  globalCidr?: string;
  /** tunnel.port: the NodePort in front of the leader cnf. */
  nodePort?: number;
  bootstrapToken: { id: string; secret: string; expiration: Date };
  namespace?: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
}

export const HUB_NAMESPACE = 'fleetboard-system';
export const HUB_CNF_SELECTOR = 'fleetboard.io/role=hub-cnf';
export const BOOTSTRAP_GROUP = 'system:bootstrappers:fleetboard';

/** A bootstrap token as kubeadm makes them: only authenticates, expires, and carries FleetBoard's group. */
export function bootstrapTokenSecret(t: HubInstallOptions['bootstrapToken']): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${t.id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    stringData: {
      description: 'FleetBoard member join',
      'token-id': t.id,
      'token-secret': t.secret,
      expiration: t.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'usage-bootstrap-authentication': 'true',
      'auth-extra-groups': BOOTSTRAP_GROUP,
    },
  } as KubernetesObject;
}

export function hubManifests(o: HubInstallOptions): Promise<KubernetesObject[]> {
  const t = o.bootstrapToken;
  return renderChart('fleetboard', o.namespace ?? HUB_NAMESPACE, {
    tunnel: { endpoint: o.endpoint, cidr: o.globalCidr, port: o.nodePort },
    bootstrapToken: { token: `${t.id}.${t.secret}`, ttl: `${Math.max(1, Math.ceil((t.expiration.getTime() - Date.now()) / 1000))}s` },
    leaderElection: { leaseDuration: secondsValue(o.leaseDuration), renewDeadline: secondsValue(o.renewDeadline), retryPeriod: secondsValue(o.retryPeriod) },
  });
}
