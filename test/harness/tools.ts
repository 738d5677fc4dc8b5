import { existsSync } from 'node:fs';
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
  | 'helm';

/** Absolute path of a Go-built tool, or a TOOL_MISSING error that says how to build it. */
export function toolPath(name: ToolName): string {
  const path = join(toolDir, name);
  if (!existsSync(path)) {
    throw new HarnessError('TOOL_MISSING', `${path} is missing: run "bash hack/setup.sh" to build the testbed tools`);
  }
  return path;
}
