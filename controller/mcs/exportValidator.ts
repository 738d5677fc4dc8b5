import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorDetail, isNotFound } from '../kube/apiErrors.js';
import { ResilientWatch } from '../kube/resilientWatch.js';
import { Debouncer } from '../tunnel/debouncer.js';
import { MCS_GROUP, MCS_VERSION, SERVICE_EXPORT_PLURAL, type ServiceExport } from './api.js';
import { exportValidity, withCondition } from './exportValidity.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const api = { group: MCS_GROUP, version: MCS_VERSION, plural: SERVICE_EXPORT_PLURAL };
const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;

/**
 * Keeps the `Valid` condition of every ServiceExport in the cluster true to
 * its Service: NoService while there is none, InvalidServiceType for an
 * ExternalName Service. Run by the cluster's leader.
 */
export class ExportValidator {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly debouncer: Debouncer;
  private exports: ResilientWatch<ServiceExport> | undefined;
  private services: ResilientWatch<V1Service> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly log: Logger,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.debouncer = new Debouncer(() => this.reconcile(), log, 'checking ServiceExports');
  }

  async start(): Promise<void> {
    const changed = { upsert: () => this.debouncer.schedule(), remove: () => this.debouncer.schedule() };
    this.exports = new ResilientWatch<ServiceExport>(
      this.kc,
      `/apis/${MCS_GROUP}/${MCS_VERSION}/${SERVICE_EXPORT_PLURAL}`,
      () => this.custom.listCustomObjectForAllNamespaces(api) as never,
      changed,
      (m) => this.log.warn(m),
    );
    this.services = new ResilientWatch<V1Service>(this.kc, '/api/v1/services', () => this.core.listServiceForAllNamespaces(), changed, (m) => this.log.warn(m));
    await this.exports.start();
    await this.services.start();
    this.debouncer.schedule();
  }

  async stop(): Promise<void> {
    await this.debouncer.stop();
    await this.exports?.stop();
    await this.services?.stop();
  }

  private async reconcile(): Promise<void> {
    const services = new Map((this.services?.cached() ?? []).map((s) => [key(s.metadata?.namespace, s.metadata?.name), s]));
    let failed = 0;
    for (const exp of this.exports?.cached() ?? []) {
      const namespace = exp.metadata?.namespace ?? '';
      const name = exp.metadata?.name ?? '';
      const verdict = exportValidity(namespace, name, services.get(key(namespace, name)));
      const conditions = withCondition(exp.status?.conditions, verdict, exp.metadata?.generation, new Date());
      if (!conditions) continue;
      try {
        await this.custom.patchNamespacedCustomObjectStatus({ ...api, namespace, name, body: { status: { conditions } } }, mergePatch);
        if (verdict.status !== 'True') this.log.info({ export: key(namespace, name), reason: verdict.reason }, 'ServiceExport is not valid');
      } catch (err) {
        if (isNotFound(err)) continue; // deleted meanwhile: nothing to report on
        failed += 1;
        this.log.warn({ export: key(namespace, name), err: apiErrorDetail(err) }, 'cannot write the ServiceExport\'s status');
      }
    }
    // The debouncer retries: the watch caches hold what is still to write.
    if (failed > 0) throw new Error(`${failed} ServiceExport status writes failed`);
  }
}
