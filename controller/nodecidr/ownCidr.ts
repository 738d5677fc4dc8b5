import type { CoreV1Api, KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { recordedNodeCidr } from '../ipam/nodeCidrStore.js';

/**
 * Every node's controller: follows the recorded node CIDRs and reports its own
 * node's whenever it appears or changes.
 */
export class OwnNodeCidr {
  private watch: ResilientWatch<V1ConfigMap> | undefined;
  private current: string | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly where: { namespace: string; configMap: string; node: string },
    private readonly changed: (cidr: string) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { namespace, configMap } = this.where;
    const watch = new ResilientWatch<V1ConfigMap>(
      this.kc,
      `/api/v1/namespaces/${namespace}/configmaps`,
      () => this.core.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${configMap}` }),
      { upsert: (cm) => this.seen(cm), remove: () => undefined },
      (m) => this.log.warn(m),
      `metadata.name=${configMap}`,
    );
    this.watch = watch;
    await watch.start();
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
  }

  private seen(cm: V1ConfigMap): void {
    let cidr: string | undefined;
    try {
      cidr = recordedNodeCidr(cm, this.where.node);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'the recorded node CIDR is unreadable; waiting for the leader to fix it');
      return;
    }
    if (cidr === undefined || cidr === this.current) return;
    this.current = cidr;
    this.changed(cidr);
  }
}
