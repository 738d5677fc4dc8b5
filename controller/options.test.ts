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
