import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../../../test/harness/errors.js';
import { ManagedProcess } from '../../../test/harness/process.js';
import { run } from '../../../test/harness/run.js';
import { repoRoot, toolPath } from '../../../test/harness/tools.js';
import { waitFor } from '../../../test/harness/wait.js';

/** Where hack/images/build.sh publishes the testbed's images. */
export const REGISTRY_STORAGE = join(repoRoot, '.cache', 'registry');

/** The registries pod specs name, each with the address a real node would pull from. */
export const UPSTREAMS: Record<string, string> = {
  'docker.io': 'https://registry-1.docker.io',
  'registry.k8s.io': 'https://registry.k8s.io',
  'ghcr.io': 'https://ghcr.io',
};

/**
 * containerd's registry host files (certs.d/<registry>/hosts.toml): every
 * upstream is mirrored by the testbed's registry, where an image is stored
 * under its registry's name (docker.io/library/nginx). An image it lacks falls
 * through to the upstream, which is unreachable here, as on a cluster offline.
 */
export function registryHostFiles(mirror: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(UPSTREAMS).map(([registry, server]) => [
      join(registry, 'hosts.toml'),
      `server = "${server}"\n\n[host."http://${mirror}/v2/${registry}"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n`,
    ]),
  );
}

export async function writeRegistryHostFiles(dir: string, mirror: string): Promise<void> {
  for (const [file, text] of Object.entries(registryHostFiles(mirror))) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), text);
  }
}

export interface ImageRegistryOptions {
  /** The network namespace it serves in (a control plane's), and the address nodes reach it at. */
  netns: string;
  ip: string;
  port: number;
  /** Its config and log. */
  dir: string;
}

/** The testbed's registry (distribution), serving hack/images/build.sh's images read-only. */
export class ImageRegistry {
  private process: ManagedProcess | undefined;

  constructor(private readonly opts: ImageRegistryOptions) {}

  get address(): string {
    return `${this.opts.ip}:${this.opts.port}`;
  }

  async start(): Promise<void> {
    const o = this.opts;
    if (!existsSync(join(REGISTRY_STORAGE, 'docker'))) throw new HarnessError('TOOL_MISSING', `${REGISTRY_STORAGE} holds no images: run "bash hack/setup.sh" to build them`);
    await mkdir(o.dir, { recursive: true });
    const config = join(o.dir, 'registry.yml');
    // Read-only: many clusters serve the one storage, and nothing in a test may change it.
    await writeFile(
      config,
      `version: 0.1\nlog: { level: warn }\nstorage:\n  filesystem: { rootdirectory: ${REGISTRY_STORAGE} }\n  maintenance: { readonly: { enabled: true }, uploadpurging: { enabled: false } }\nhttp: { addr: "0.0.0.0:${o.port}" }\n`,
    );
    this.process = new ManagedProcess({ name: `registry ${this.address}`, command: toolPath('registry'), args: ['serve', config], netns: o.netns, logFile: join(o.dir, 'registry.log') });
    this.process.start();
    const p = this.process;
    await waitFor(
      async () => {
        p.assertRunning();
        return (await run('ip', ['netns', 'exec', o.netns, 'curl', '-fsS', `http://${this.address}/v2/`]).then(
          () => true,
          () => undefined,
        ));
      },
      { what: `the image registry at ${this.address}`, timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  async stop(): Promise<void> {
    await this.process?.stop();
  }
}
