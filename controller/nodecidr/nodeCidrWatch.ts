import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { ConfigMapKind, type ConfigMap } from '../objects/core.js';
import { recordedNodeCidrs } from '../ipam/nodeCidrStore.js';

/**
 * Every node's controller follows the node CIDRs the leader records: its own
 * one for IPAM, all of them for the tunnels between nodes. `changed` gets the
 * whole map whenever it differs from the last one.
 */
export class NodeCidrWatch {
  private watch: ResilientWatch<ConfigMap> | undefined;
  private last = '';

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly where: { namespace: string; configMap: string },
    private readonly changed: (cidrs: ReadonlyMap<string, string>) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { namespace, configMap } = this.where;
    const watch = new ResilientWatch(
      this.kc,
      `/api/v1/namespaces/${namespace}/configmaps`,
      ConfigMapKind,
      () => this.core.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${configMap}` }),
      { upsert: (cm) => this.seen(cm), remove: () => undefined },
      (m) => this.log.warn(m),
      { field: `metadata.name=${configMap}` },
    );
    this.watch = watch;
    await watch.start();
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
  }

  private seen(cm: ConfigMap): void {
    const { cidrs, problems } = recordedNodeCidrs(cm);
    for (const problem of problems) this.log.error({ err: problem }, 'a recorded node CIDR is unreadable; waiting for the leader to fix it');
    const key = JSON.stringify([...cidrs].sort());
    if (key === this.last) return;
    this.last = key;
    this.changed(cidrs);
  }
}
