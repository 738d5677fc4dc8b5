import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { registryHostFiles } from './imageRegistry.js';
import { containerdConfig, kubeletConfig, PAUSE_IMAGE } from './nodeConfig.js';

test('both containerd releases get NRI enabled, the built pause image, the testbed runc, CNI and registry, and no OOM score lowering', () => {
  for (const release of ['containerd-2', 'containerd-1.7'] as const) {
    const toml = containerdConfig(release, { runc: '/bin/runc', cniConfDir: '/etc/cni/net.d', cniBinDir: '/usr/lib/cni', registryConfigDir: '/n/certs.d' });
    assert.match(toml, /\[plugins\.['"]io\.containerd\.nri\.v1\.nri['"]\]\n {2}disable = false/, release);
    assert.ok(toml.includes(PAUSE_IMAGE), release);
    assert.match(toml, /BinaryName = ['"]\/bin\/runc['"]/, release);
    assert.match(toml, /restrict_oom_score_adj = true/, release);
    assert.match(toml, /conf_dir = ['"]\/etc\/cni\/net\.d['"]/, release);
    assert.match(toml, /config_path = ['"]\/n\/certs\.d['"]/, release);
  }
  // Each in the config format its release reads.
  const paths = { runc: '/r', cniConfDir: '/c', cniBinDir: '/b', registryConfigDir: '/d' };
  assert.match(containerdConfig('containerd-2', paths), /^version = 3\n/);
  assert.match(containerdConfig('containerd-1.7', paths), /^version = 2\n/);
});

test('the kubelet serves its API on the node address with its own certificate, under the node\'s cgroup, on a cgroup v1 host', () => {
  const config = parse(kubeletConfig({ ip: '192.168.0.11', cgroupRoot: '/t/n1', clientCaFile: '/ca', tlsCertFile: '/crt', tlsKeyFile: '/key', clusterDns: '10.96.0.10' })) as Record<string, unknown>;
  assert.equal(config.address, '192.168.0.11');
  assert.equal(config.tlsCertFile, '/crt');
  assert.equal(config.cgroupRoot, '/t/n1');
  assert.equal(config.failCgroupV1, false);
  assert.deepEqual(config.authorization, { mode: 'Webhook' });
  assert.deepEqual(config.clusterDNS, ['10.96.0.10']);
});

test('pulls from docker.io, registry.k8s.io and ghcr.io go to the testbed registry, under the registry\'s name', () => {
  const files = registryHostFiles('10.0.0.1:5000');
  assert.deepEqual(Object.keys(files).sort(), ['docker.io/hosts.toml', 'ghcr.io/hosts.toml', 'registry.k8s.io/hosts.toml']);
  assert.equal(
    files['docker.io/hosts.toml'],
    'server = "https://registry-1.docker.io"\n\n[host."http://10.0.0.1:5000/v2/docker.io"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n',
  );
});
