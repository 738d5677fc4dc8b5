import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { V1DownwardAPIVolumeFile, V1Pod, V1Volume, V1KeyToPath } from '@kubernetes/client-node';
import { fieldValue, readSource, type EnvSources } from './env.js';

export interface VolumeDeps extends EnvSources {
  /** A token for the pod's ServiceAccount, bound to the pod. */
  serviceAccountToken(pod: V1Pod, audience: string | undefined, expirationSeconds: number): Promise<string>;
  /** Per-node directory standing in for the node's root filesystem. */
  nodeRoot: string;
}

export class VolumeError extends Error {
  override name = 'VolumeError';
}

/**
 * Host paths that stay the real host's: the namespaces and kernel interfaces a
 * node shares with the machine. Every other hostPath lives under the node's own
 * root, so nodes of the testbed do not see each other's files.
 */
const SHARED_HOST_PATHS = ['/run/netns', '/var/run/netns', '/proc', '/sys', '/dev', '/lib/modules'];

export function hostPathSource(nodeRoot: string, path: string): string {
  const p = normalize(path);
  return SHARED_HOST_PATHS.some((s) => p === s || p.startsWith(`${s}/`)) ? p : join(nodeRoot, p);
}

async function writeKeys(dir: string, data: Record<string, string | Buffer>, items: V1KeyToPath[] | undefined, what: string) {
  const entries = items?.length
    ? items.map((i) => {
        const v = data[i.key];
        if (v === undefined) throw new VolumeError(`${what} has no key "${i.key}"`);
        return [i.path, v] as const;
      })
    : Object.entries(data);
  for (const [path, value] of entries) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, value, { mode: 0o644 });
  }
}

async function writeDownward(pod: V1Pod, dir: string, volume: string, items: V1DownwardAPIVolumeFile[] | undefined) {
  for (const item of items ?? []) {
    if (!item.fieldRef) throw new VolumeError(`volume ${volume}: only fieldRef items are supported`);
    await writeKeys(dir, { [item.path]: fieldValue(pod, item.fieldRef.fieldPath) }, undefined, volume);
  }
}

async function materialize(pod: V1Pod, v: V1Volume, dir: string, deps: VolumeDeps): Promise<string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const source = (kind: 'configMap' | 'secret', name: string, optional: boolean | undefined) =>
    readSource(deps, kind, ns, name, optional, `volume ${v.name}`);
  if (v.hostPath) {
    const path = hostPathSource(deps.nodeRoot, v.hostPath.path);
    if (path.startsWith(deps.nodeRoot)) await mkdir(path, { recursive: true });
    return path;
  }
  await mkdir(dir, { recursive: true });
  if (v.emptyDir) return dir;
  if (v.configMap) {
    await writeKeys(dir, await source('configMap', v.configMap.name ?? '', v.configMap.optional), v.configMap.items, `configMap ${v.configMap.name ?? ''}`);
    return dir;
  }
  if (v.secret) {
    const name = v.secret.secretName ?? '';
    await writeKeys(dir, await source('secret', name, v.secret.optional), v.secret.items, `secret ${name}`);
    return dir;
  }
  if (v.downwardAPI) {
    await writeDownward(pod, dir, v.name, v.downwardAPI.items);
    return dir;
  }
  if (v.projected) {
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken) {
        const token = await deps.serviceAccountToken(pod, s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds ?? 3600);
        await writeKeys(dir, { [s.serviceAccountToken.path]: token }, undefined, v.name);
      } else if (s.configMap) {
        await writeKeys(dir, await source('configMap', s.configMap.name ?? '', s.configMap.optional), s.configMap.items, `configMap ${s.configMap.name ?? ''}`);
      } else if (s.secret) {
        await writeKeys(dir, await source('secret', s.secret.name ?? '', s.secret.optional), s.secret.items, `secret ${s.secret.name ?? ''}`);
      } else if (s.downwardAPI) {
        await writeDownward(pod, dir, v.name, s.downwardAPI.items);
      } else {
        throw new VolumeError(`volume ${v.name}: projected source not supported by the testbed`);
      }
    }
    return dir;
  }
  throw new VolumeError(`volume ${v.name}: type not supported by the testbed (emptyDir, hostPath, configMap, secret, downwardAPI, projected are)`);
}

/** Writes every volume of the pod under `podDir/volumes`; returns volume name → host directory. */
export async function materializeVolumes(pod: V1Pod, podDir: string, deps: VolumeDeps): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) out.set(v.name, await materialize(pod, v, join(podDir, 'volumes', v.name), deps));
  return out;
}
