import { setTimeout as delay } from 'node:timers/promises';
import type { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { apiErrorDetail, httpCode, isConflict, isNotFound } from '../kube/apiErrors.js';
import { decodeObject } from '../objects/decode.js';
import { ConfigMapKind, type ConfigMap } from '../objects/core.js';
import { IpamError } from './errors.js';
import { formatCidr, parseCidr } from './cidr.js';
import { assignNodeCidrs, type NodeCidrPlan } from './nodeCidrs.js';

export const DEFAULT_NODE_CIDR_CONFIGMAP = 'fleetboard-node-cidrs';

export interface NodeCidrStoreOptions {
  /** Read-decide-write rounds before a conflict is given up on (default 10). */
  maxAttempts?: number;
  /** Base of the jittered, growing pause between rounds (default 20 ms). */
  retryDelayMs?: number;
}

function sameAssignment(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([node, cidr]) => b.get(node) === cidr);
}

/**
 * The CIDR `cm` records for `node`, normalised; undefined until the leader
 * assigns one. An unreadable entry is an INVALID_CIDR error.
 */
export function recordedNodeCidr(cm: ConfigMap | undefined, node: string): string | undefined {
  const recorded = cm?.data[node];
  if (cm === undefined || recorded === undefined) return undefined;
  try {
    return formatCidr(parseCidr(recorded));
  } catch (err) {
    const where = `${cm.metadata.namespace ?? ''}/${cm.metadata.name}`;
    throw new IpamError(
      'INVALID_CIDR',
      `ConfigMap ${where} records ${JSON.stringify(recorded)} for node ${node}, which is not a CIDR; the leader replaces it on its next reconcile`,
      { cause: err },
    );
  }
}

/** Every node's recorded CIDR; entries that are not CIDRs are reported, not returned. Pure. */
export function recordedNodeCidrs(cm: ConfigMap | undefined): { cidrs: Map<string, string>; problems: string[] } {
  const cidrs = new Map<string, string>();
  const problems: string[] = [];
  for (const node of Object.keys(cm?.data ?? {})) {
    try {
      const cidr = recordedNodeCidr(cm, node);
      if (cidr) cidrs.set(node, cidr);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return { cidrs, problems };
}

/**
 * The durable record of node CIDRs: a ConfigMap whose data maps node name to
 * CIDR. The leader writes it; every node reads its own entry. Writes are
 * optimistic (create, or replace at the resourceVersion that was read), so
 * two leaders overlapping during a hand-over cannot interleave a read and a
 * write: each decision is made on exactly the data it replaces, and a
 * decision never gives one CIDR to two nodes.
 */
export class NodeCidrStore {
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly core: CoreV1Api,
    readonly namespace: string,
    readonly name: string = DEFAULT_NODE_CIDR_CONFIGMAP,
    options: NodeCidrStoreOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.retryDelayMs = options.retryDelayMs ?? 20;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`NodeCidrStore maxAttempts must be a positive integer, not ${this.maxAttempts}`);
    }
  }

  /** The recorded assignment (empty when nothing is recorded yet), as stored, unvalidated. */
  async read(): Promise<{ assignment: Map<string, string>; resourceVersion?: string }> {
    const cm = await this.load();
    const assignment = new Map(Object.entries(cm?.data ?? {}));
    const resourceVersion = cm?.metadata?.resourceVersion;
    return resourceVersion === undefined ? { assignment } : { assignment, resourceVersion };
  }

  /** The CIDR recorded for `node`, for the node's own controller; undefined until the leader assigns one. */
  async nodeCidr(node: string): Promise<string | undefined> {
    const cm = await this.load();
    return recordedNodeCidr(cm && decodeObject(ConfigMapKind, cm), node);
  }

  /**
   * Records a node CIDR for every node in `nodes` and drops the others (see
   * assignNodeCidrs: `nodes` must be a complete listing). Returns what is
   * recorded once it returns, and the problems found on the way.
   */
  async reconcile(clusterCidr: string, prefix: number, nodes: Iterable<string>): Promise<NodeCidrPlan> {
    const nodeList = [...nodes];
    let lastConflict: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const existing = await this.load();
      const current = new Map(Object.entries(existing?.data ?? {}));
      const plan = assignNodeCidrs(clusterCidr, prefix, current, nodeList);
      if (existing && sameAssignment(current, plan.assignment)) return plan;
      try {
        await this.write(existing, plan.assignment);
        return plan;
      } catch (err) {
        if (!isConflict(err)) throw this.failed(existing ? 'update' : 'create', err);
        lastConflict = err;
      }
      if (attempt < this.maxAttempts) await delay(this.retryDelayMs * attempt * (0.5 + Math.random()));
    }
    throw new IpamError(
      'STORE_CONFLICT',
      `ConfigMap ${this.where()} changed under every one of ${this.maxAttempts} attempts to record node CIDRs; ` +
        'another writer (a second leader during a hand-over?) keeps updating it: check that only one leader runs, then reconcile again',
      { cause: lastConflict },
    );
  }

  private async load(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.core.readNamespacedConfigMap({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.failed('get', err);
    }
  }

  private async write(existing: V1ConfigMap | undefined, assignment: ReadonlyMap<string, string>): Promise<void> {
    const data = Object.fromEntries(assignment);
    if (!existing) {
      const metadata = { name: this.name, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'fleetboard' } };
      await this.core.createNamespacedConfigMap({ namespace: this.namespace, body: { metadata, data } });
      return;
    }
    // The metadata carries the resourceVersion that was read: the apiserver refuses the write (409) if anyone wrote since.
    const body = { metadata: existing.metadata ?? {}, data };
    await this.core.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body });
  }

  private failed(verb: string, err: unknown): IpamError {
    const code = httpCode(err);
    const advice =
      code === 401 || code === 403
        ? `the controller's ServiceAccount needs get, create and update on configmaps in namespace ${this.namespace}`
        : code === 404
          ? `check that namespace ${this.namespace} exists`
          : 'the next reconcile tries again';
    return new IpamError('STORE_FAILED', `${verb} ConfigMap ${this.where()} failed${code ? ` (HTTP ${code})` : ''}: ${apiErrorDetail(err)}; ${advice}`, {
      cause: err,
    });
  }

  private where(): string {
    return `${this.namespace}/${this.name}`;
  }
}
