import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionsError, parseControllerOptions, parseListenAddress } from './options.js';

const env = { NODE_NAME: 'n1', POD_NAME: 'cnf-a', POD_NAMESPACE: 'fleetboard-system' };

test('defaults: seed global CIDR, /24 node CIDRs, automatic MTU, metrics on :9464', () => {
  const o = parseControllerOptions(['--cluster-cidr=10.113.0.0/16'], env);
  assert.equal(o.globalCidr, '10.112.0.0/12');
  assert.equal(o.nodeCidrPrefix, 24);
  assert.equal(o.mtu, 0);
  assert.deepEqual(o.metricsAddress, { host: '', port: 9464 });
  assert.equal(o.leaseDurationMs, 15_000);
});

test('listen addresses: host:port, :port and bracketed IPv6', () => {
  assert.deepEqual(parseListenAddress('x', '127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListenAddress('x', ':0'), { host: '', port: 0 });
  assert.deepEqual(parseListenAddress('x', '[::1]:9464'), { host: '::1', port: 9464 });
  for (const bad of ['9464', 'host:', ':70000', '::1:9464']) {
    assert.throws(() => parseListenAddress('metrics-address', bad), (e: unknown) => e instanceof OptionsError && /--metrics-address/.test(e.message), bad);
  }
});

test('a cluster CIDR outside the global CIDR is refused with both flags named', () => {
  assert.throws(
    () => parseControllerOptions(['--cluster-cidr=192.168.0.0/16'], env),
    (e: unknown) => e instanceof OptionsError && /--cluster-cidr 192.168.0.0\/16 must lie inside --global-cidr/.test(e.message),
  );
});

test('tunnel flags: a bad port or interface name is refused with the flag named', () => {
  const o = parseControllerOptions(['--cluster-cidr=10.113.0.0/16'], env);
  assert.equal(o.tunnelInterface, 'fleetboard0');
  assert.equal(o.tunnelPort, 51820);
  assert.throws(() => parseControllerOptions(['--cluster-cidr=10.113.0.0/16', '--tunnel-port=0'], env), /--tunnel-port must be a UDP port/);
  assert.throws(() => parseControllerOptions(['--cluster-cidr=10.113.0.0/16', '--tunnel-interface=a-very-long-interface'], env), /--tunnel-interface must be an interface name/);
});

test('the WireGuard backend is auto unless chosen; an unknown one is refused with the valid ones listed', () => {
  assert.equal(parseControllerOptions(['--cluster-cidr=10.113.0.0/16'], env).wireguardBackend, 'auto');
  for (const backend of ['kernel', 'wireguard-go'] as const) {
    assert.equal(parseControllerOptions(['--cluster-cidr=10.113.0.0/16', `--wireguard-backend=${backend}`], env).wireguardBackend, backend);
  }
  assert.throws(
    () => parseControllerOptions(['--cluster-cidr=10.113.0.0/16', '--wireguard-backend=boringtun'], env),
    (e: unknown) => e instanceof OptionsError && e.message === '--wireguard-backend must be one of auto, kernel, wireguard-go (got "boringtun")',
  );
});

const joinEnv = { ...env, FLEETBOARD_BOOTSTRAP_TOKEN: 'abcdef.0123456789abcdef' };
const join = ['--hub-url=https://203.0.113.10:6443', '--cluster-id=cluster1'];

test('a member joins with the hub URL, its cluster ID and the bootstrap token, and stays behind NAT unless it names an endpoint', () => {
  const o = parseControllerOptions(join, joinEnv);
  assert.deepEqual(o.hub, { url: 'https://203.0.113.10:6443', caFile: '/etc/fleetboard/hub/ca.crt', clusterID: 'cluster1', bootstrapToken: 'abcdef.0123456789abcdef' });
  assert.equal(o.clusterCidr, undefined);
  assert.equal(o.publicEndpoint, undefined);
  assert.throws(() => parseControllerOptions(join, env), /FLEETBOARD_BOOTSTRAP_TOKEN must hold the hub's bootstrap token/);
  assert.throws(() => parseControllerOptions([...join, '--cluster-cidr=10.113.0.0/16'], joinEnv), /--cluster-cidr and --hub-url exclude each other/);
  assert.throws(() => parseControllerOptions(['--hub-url=http://203.0.113.10:6443', '--cluster-id=cluster1'], joinEnv), /--hub-url must be the hub apiserver's https:\/\/ URL/);
});

test('a member with --tunnel-endpoint publishes it with its port; a bad one, or one without a hub, is refused', () => {
  assert.deepEqual(parseControllerOptions([...join, '--tunnel-endpoint=198.51.100.7'], joinEnv).publicEndpoint, { host: '198.51.100.7', port: 31820 });
  assert.deepEqual(parseControllerOptions([...join, '--tunnel-endpoint=gw.cluster1.example', '--tunnel-endpoint-port=31821'], joinEnv).publicEndpoint, { host: 'gw.cluster1.example', port: 31821 });
  assert.throws(() => parseControllerOptions([...join, '--tunnel-endpoint=gw_1!'], joinEnv), /--tunnel-endpoint must be the address or DNS name other clusters reach this one at/);
  assert.throws(() => parseControllerOptions([...join, '--tunnel-endpoint=198.51.100.7', '--tunnel-endpoint-port=0'], joinEnv), /--tunnel-endpoint-port must be a UDP port/);
  assert.throws(() => parseControllerOptions(['--cluster-cidr=10.113.0.0/16', '--tunnel-endpoint=198.51.100.7'], env), /--tunnel-endpoint needs --hub-url/);
});
