import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionsError } from '../options.js';
import { parseHubOptions } from './options.js';

const env = { NODE_NAME: 'hub-node1', POD_NAME: 'fleetboard-hub-cnf-x', POD_NAMESPACE: 'fleetboard-system' };

test('hub defaults: seed global CIDR and NodePort, /16 per cluster, tokens for a week, its own Lease', () => {
  const o = parseHubOptions(['--tunnel-endpoint=203.0.113.10'], env);
  assert.equal(o.globalCidr, '10.112.0.0/12');
  assert.equal(o.endpointPort, 31820);
  assert.equal(o.tunnelPort, 51820);
  assert.equal(o.clusterCidrPrefix, 16);
  assert.equal(o.memberTokenSeconds, 7 * 24 * 3600);
  assert.equal(o.leaseName, 'fleetboard-hub-leader');
  assert.equal(o.wireguardBackend, 'auto');
});

test('the hub refuses a missing endpoint, a cluster prefix wider than the global CIDR and a bad token lifetime, naming the flag', () => {
  for (const [args, flag] of [
    [[], /--tunnel-endpoint must be/],
    [['--tunnel-endpoint=203.0.113.10', '--cluster-cidr-prefix=8'], /--cluster-cidr-prefix must be a whole number from \/12/],
    [['--tunnel-endpoint=203.0.113.10', '--member-token-ttl=30m'], /--member-token-ttl must be whole hours/],
    [['--tunnel-endpoint=203.0.113.10', '--tunnel-endpoint-port=70000'], /--tunnel-endpoint-port must be a UDP port/],
    [['--tunnel-endpoint=203.0.113.10', '--wireguard-backend=userspace'], /--wireguard-backend must be one of auto, kernel, wireguard-go/],
  ] as const) {
    assert.throws(() => parseHubOptions([...args], env), (e: unknown) => e instanceof OptionsError && flag.test(e.message), args.join(' '));
  }
});
