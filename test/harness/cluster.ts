import { AppsV1Api, CoreV1Api, DiscoveryV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { EndpointSliceKind } from '../../controller/objects/discovery.js';
import { readItems } from './objects.js';
import { waitFor } from './wait.js';

/** The seed example's server: Deployment `nginx-app` (nginx + curl sidecar) and Service `nginx-svc`. */
export async function createNginxApp(kc: KubeConfig, namespace = 'default', replicas = 3): Promise<void> {
  const labels = { app: 'nginx-app' };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'nginx-app', labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              { name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] },
              { name: 'curl', image: 'alpine/curl', command: ['sleep', 'infinity'] },
            ],
          },
        },
      },
    },
  });
  await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace,
    body: { metadata: { name: 'nginx-svc' }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 80 }] } },
  });
}

/** A pod that idles, to run commands from. */
export async function createClientPod(kc: KubeConfig, name: string, namespace = 'default', nodeName?: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { app: name } },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'curl', image: 'alpine/curl', command: ['sleep', 'infinity'] }] },
    },
  });
}

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Waits until `count` pods match `selector` and all are Running and Ready; returns them. */
export async function waitForReadyPods(kc: KubeConfig, namespace: string, selector: string, count: number, timeoutMs = 90_000): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  let last: V1Pod[] = [];
  try {
    return await waitFor(
      async () => {
        last = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
        const ready = last.filter((p) => p.status?.phase === 'Running' && isReady(p) && !p.metadata?.deletionTimestamp);
        return ready.length === count ? ready : undefined;
      },
      { what: `${count} ready pods "${selector}" in ${namespace}`, timeoutMs, intervalMs: 300 },
    );
  } catch (err) {
    // Say which containers are not running and why, so a timeout can be diagnosed from the test output.
    const stuck = last
      .flatMap((p) => (p.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => `${p.metadata?.name ?? ''}/${c.name}: ${JSON.stringify(c.state)} restarts ${c.restartCount}`))
      .slice(0, 10);
    if (stuck.length > 0 && err instanceof Error) err.message += `; not ready: ${stuck.join('; ')}`;
    throw err;
  }
}

/** Waits until the Service's EndpointSlices list `count` ready endpoints (what kube-proxy programs). */
export async function waitForServiceEndpoints(kc: KubeConfig, namespace: string, service: string, count: number, timeoutMs = 60_000): Promise<void> {
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  await waitFor(
    async () => {
      const slices = readItems(EndpointSliceKind, await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` }));
      const ready = slices.flatMap((s) => s.endpoints).filter((e) => e.conditions.ready === true);
      return ready.length === count ? true : undefined;
    },
    { what: `${count} ready endpoints of Service ${namespace}/${service}`, timeoutMs, intervalMs: 300 },
  );
}

/**
 * An idle Deployment in `default` labelled app=<name>; `pause` keeps hundreds
 * of replicas cheap. `neverReady`: the readiness probe always fails, so the
 * pods stay out of their Services' ready endpoints.
 */
export async function createPauseDeployment(kc: KubeConfig, name: string, replicas: number, opts: { neverReady?: boolean } = {}): Promise<void> {
  const labels = { app: name };
  const readinessProbe = opts.neverReady ? { readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } } : {};
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', ...readinessProbe }] } },
      },
    },
  });
}

export async function scaleDeployment(kc: KubeConfig, name: string, replicas: number): Promise<void> {
  await kc.makeApiClient(AppsV1Api).patchNamespacedDeploymentScale(
    { name, namespace: 'default', body: { spec: { replicas } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Waits until every DaemonSet and Deployment in `namespace` has rolled out its current template to ready pods. */
export async function waitForRollouts(kc: KubeConfig, namespace: string, timeoutMs = 120_000): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(
    async () => {
      const daemonSets = (await apps.listNamespacedDaemonSet({ namespace })).items;
      const deployments = (await apps.listNamespacedDeployment({ namespace })).items;
      const pending = [
        ...daemonSets.filter((d) => {
          const s = d.status;
          if (!s) return true;
          return s.observedGeneration !== d.metadata?.generation || s.updatedNumberScheduled !== s.desiredNumberScheduled || s.numberReady !== s.desiredNumberScheduled || (s.numberUnavailable ?? 0) > 0;
        }),
        ...deployments.filter((d) => {
          const s = d.status;
          const want = d.spec?.replicas ?? 1;
          if (!s) return true;
          return s.observedGeneration !== d.metadata?.generation || s.updatedReplicas !== want || s.readyReplicas !== want || s.replicas !== want;
        }),
      ];
      return pending.length === 0 ? true : undefined;
    },
    { what: `the DaemonSets and Deployments in ${namespace} rolled out`, timeoutMs, intervalMs: 500 },
  );
}
