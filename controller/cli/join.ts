import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { decodeObject } from '../objects/decode.js';
import { ConfigMapKind } from '../objects/core.js';
import { clusterIdProblem } from '../clusterset/peer.js';
import { readMemberPeer } from './hubState.js';

export const AGENT_CHART = 'fleetboard/fleetboard-agent';
export const AGENT_RELEASE = 'fleetboard-agent';
export const AGENT_NAMESPACE = 'fleetboard-system';

export class JoinError extends Error {
  override name = 'JoinError';
}

/** What a member's agent install is given to join the hub. */
export interface JoinMaterial {
  clusterID: string;
  hubURL: string;
  /** PEM of the CA that signs the hub apiserver's certificate. */
  caPem: string;
  token: string;
}

export interface HelmTarget {
  chart: string;
  namespace: string;
  /** Further `--set` values, e.g. tunnel.endpoint for a member others can reach. */
  extraSets: string[];
}

/** `helm upgrade --install` arguments that install the agent with the join material (upgrade keeps re-runs harmless). */
export function helmJoinArgs(m: JoinMaterial, target: HelmTarget): string[] {
  return [
    'upgrade',
    '--install',
    AGENT_RELEASE,
    target.chart,
    '--namespace',
    target.namespace,
    '--create-namespace',
    '--set',
    `hub.hubURL=${m.hubURL}`,
    '--set',
    `hub.bootstrapToken=${m.token}`,
    '--set',
    `hub.ca=${Buffer.from(m.caPem).toString('base64')}`,
    '--set',
    `cluster.clusterID=${m.clusterID}`,
    ...target.extraSets.flatMap((s) => ['--set', s]),
  ];
}

/** The command as a user pastes it: one `--set` per line. */
export function shellCommand(argv: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const parts: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (a === '--set') {
      parts.push(`\\\n    ${a} ${quote(argv[i + 1] ?? '')}`);
      i += 1;
    } else {
      parts.push(quote(a));
    }
  }
  return parts.join(' ');
}

/** The hub URL and CA a member needs, from the hub kubeconfig (or its kube-root-ca.crt when the kubeconfig has no CA data). */
export async function hubMaterial(hub: KubeConfig, hubURL: string | undefined): Promise<{ hubURL: string; caPem: string }> {
  const cluster = hub.getCurrentCluster();
  const url = hubURL ?? cluster?.server ?? '';
  if (!url.startsWith('https://')) throw new JoinError(`the hub URL must be https:// (got "${url}"); pass --hub-url with the address members reach the hub apiserver at`);
  if (/^https:\/\/(127\.|localhost|\[::1\])/.test(url)) throw new JoinError(`the hub kubeconfig points at ${url}, which members cannot reach; pass --hub-url`);
  if (cluster?.caData) return { hubURL: url, caPem: Buffer.from(cluster.caData, 'base64').toString('utf8') };
  const cm = decodeObject(ConfigMapKind, await hub.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace: 'kube-system' }));
  const ca = cm.data['ca.crt'];
  if (!ca) throw new JoinError('the hub has no kube-system/kube-root-ca.crt and the kubeconfig no CA data: cannot tell members which CA to trust');
  return { hubURL: url, caPem: ca };
}

/** Refuses an ID that is malformed or that another cluster already holds. */
export async function checkClusterIdFree(hub: KubeConfig, clusterID: string): Promise<void> {
  const problem = clusterIdProblem(clusterID);
  if (problem) throw new JoinError(problem);
  if (await readMemberPeer(hub, clusterID)) throw new JoinError(`cluster ID ${clusterID} is taken in the hub; choose another, or remove that member first`);
}
