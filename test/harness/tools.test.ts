import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from './run.js';
import { containerdDir, pinned, toolPath } from './tools.js';

test('the node binaries and the image registry report the releases their modules pin, as release builds do', async () => {
  const kube = await pinned('.', 'k8s.io/kubernetes');
  assert.equal((await run(toolPath('kubelet'), ['--version'])).stdout.trim(), `Kubernetes ${kube}`);
  for (const [release, dir, module] of [
    ['containerd-2', 'containerd', 'github.com/containerd/containerd/v2'],
    ['containerd-1.7', 'containerd-1.7', 'github.com/containerd/containerd'],
  ] as const) {
    const version = await pinned(dir, module);
    const reported = (await run(join(containerdDir(release), 'containerd'), ['--version'])).stdout;
    assert.ok(reported.startsWith(`containerd ${module} ${version} `), `${release}: ${reported}`);
  }
  const runc = (await run(toolPath('runc'), ['--version'])).stdout;
  assert.ok(runc.startsWith(`runc version ${(await pinned('runc', 'github.com/opencontainers/runc')).slice(1)}\n`), runc);
  // Pods' default seccomp profile needs runc built with libseccomp.
  assert.match(runc, /^libseccomp: \d/m, runc);
  const crictl = (await run(toolPath('crictl'), ['--version'])).stdout;
  assert.equal(crictl.trim(), `crictl version ${await pinned('crictl', 'sigs.k8s.io/cri-tools')}`);
  const registry = (await run(toolPath('registry'), ['--version'])).stdout;
  assert.ok(registry.endsWith(` github.com/distribution/distribution/v3 ${await pinned('registry', 'github.com/distribution/distribution/v3')}\n`), registry);
});
