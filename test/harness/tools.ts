import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.js';

/** Repository root, whether running from sources or from dist/. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (no package.json above this file)');
    dir = up;
  }
  return dir;
})();

/** Where hack/tools/build.sh puts the Go-built binaries. */
export const toolDir = join(repoRoot, '.cache', 'bin');

export type ToolName =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kube-proxy'
  | 'coredns'
  | 'nri-runtime'
  | 'nri-runtime-v0.3'
  | 'nri-event-logger'
  | 'kubectl'
  | 'kubelet'
  | 'runc'
  | 'crictl'
  | 'helm'
  | 'registry';

/** Absolute path of a Go-built tool, or a TOOL_MISSING error that says how to build it. */
export function toolPath(name: ToolName): string {
  const path = join(toolDir, name);
  if (!existsSync(path)) {
    throw new HarnessError('TOOL_MISSING', `${path} is missing: run "bash hack/setup.sh" to build the testbed tools`);
  }
  return path;
}

/** The containerd releases a node can run, each in its own folder with its runc shim and ctr. */
export type ContainerdRelease = 'containerd-2' | 'containerd-1.7';

/** The folder holding one containerd release's binaries, or TOOL_MISSING. */
export function containerdDir(release: ContainerdRelease): string {
  const dir = join(toolDir, release);
  if (!existsSync(join(dir, 'containerd'))) {
    throw new HarnessError('TOOL_MISSING', `${dir}/containerd is missing: run "bash hack/setup.sh" to build the testbed tools`);
  }
  return dir;
}

/** The version a hack/tools go.mod pins for `module`: what the binary built from it must report. */
export async function pinned(goModDir: string, module: string): Promise<string> {
  const goMod = await readFile(join(repoRoot, 'hack', 'tools', goModDir, 'go.mod'), 'utf8');
  const version = new RegExp(`^\\s*${module.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(goMod)?.[1];
  if (!version) throw new HarnessError('TOOL_MISSING', `hack/tools/${goModDir}/go.mod pins no version of ${module}`);
  return version;
}
