import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** Looks up ConfigMap and Secret keys for env vars; undefined when absent. */
export interface EnvSources {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Data of a ConfigMap or Secret; a missing one is an error unless the reference is optional. */
export async function readSource(
  sources: EnvSources,
  kind: 'configMap' | 'secret',
  namespace: string,
  name: string,
  optional: boolean | undefined,
  referencedBy: string,
): Promise<Record<string, string>> {
  const data = await sources[kind](namespace, name);
  if (!data && !optional) throw new EnvError(`${kind} ${namespace}/${name} not found (referenced by ${referencedBy})`);
  return data ?? {};
}

/** Value of a downward-API field path of the pod (env fieldRef and downwardAPI volumes). */
export function fieldValue(pod: V1Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const labelOrAnnotation = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (labelOrAnnotation) {
    const map = labelOrAnnotation[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[labelOrAnnotation[2] ?? ''] ?? '';
  }
  const formatMap = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    default:
      throw new EnvError(`field path "${fieldPath}" is not supported by the testbed`);
  }
}

/** Kubernetes' $(VAR) expansion: known names expand, $$ escapes, unknown references stay as written. */
export function expandVars(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && name in vars ? (vars[name] ?? '') : match;
  });
}

/** The environment of one container, as the kubelet builds it (service variables for `kubernetes` only). */
export async function containerEnv(
  pod: V1Pod,
  c: V1Container,
  sources: EnvSources,
  base: Record<string, string>,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = { ...base };
  const lookup = (kind: 'configMap' | 'secret', name: string, optional: boolean | undefined) =>
    readSource(sources, kind, namespace, name, optional, `container ${c.name}`);
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    const data = from.configMapRef
      ? await lookup('configMap', from.configMapRef.name ?? '', from.configMapRef.optional)
      : from.secretRef
        ? await lookup('secret', from.secretRef.name ?? '', from.secretRef.optional)
        : {};
    for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom;
    if (!ref) {
      env[e.name] = expandVars(e.value ?? '', env);
    } else if (ref.fieldRef) {
      env[e.name] = fieldValue(pod, ref.fieldRef.fieldPath);
    } else if (ref.configMapKeyRef) {
      const data = await lookup('configMap', ref.configMapKeyRef.name ?? '', ref.configMapKeyRef.optional);
      const v = data[ref.configMapKeyRef.key];
      if (v !== undefined) env[e.name] = v;
      else if (!ref.configMapKeyRef.optional) throw new EnvError(`key ${ref.configMapKeyRef.key} missing in configMap ${ref.configMapKeyRef.name ?? ''}`);
    } else if (ref.secretKeyRef) {
      const data = await lookup('secret', ref.secretKeyRef.name ?? '', ref.secretKeyRef.optional);
      const v = data[ref.secretKeyRef.key];
      if (v !== undefined) env[e.name] = v;
      else if (!ref.secretKeyRef.optional) throw new EnvError(`key ${ref.secretKeyRef.key} missing in secret ${ref.secretKeyRef.name ?? ''}`);
    } else {
      throw new EnvError(`env ${e.name} of container ${c.name}: only value, fieldRef, configMapKeyRef and secretKeyRef are supported`);
    }
  }
  return env;
}
