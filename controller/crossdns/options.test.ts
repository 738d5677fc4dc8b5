import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCrossDnsOptions } from './options.js';

const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', NODE_NAME: 'node-1' };

test('defaults: both seed zones, no custom or reverse zone, port 53 everywhere, 5 s TTL, 1000 TCP connections, metrics on :9464, in-cluster credentials', () => {
  assert.deepEqual(parseCrossDnsOptions([], inCluster), {
    zones: ['clusterset.local', 'hyperos.local'],
    customZones: [],
    reverseZones: [],
    listen: { host: '0.0.0.0', port: 53 },
    ttl: 5,
    kubeconfig: { inCluster: true },
    nodeName: 'node-1',
    logLevel: 'info',
    maxTcpConnections: 1000,
    nameserverAddresses: [],
    metricsAddress: { host: '', port: 9464 },
  });
});

test('flags as the Deployment and the tests pass them; KUBECONFIG outside a cluster', () => {
  const opts = parseCrossDnsOptions(['--zones', 'ClusterSet.Local.', '--custom-zones', 'shared.example, other.example', '--listen', '127.0.0.1:0', '--ttl', '30s'], { KUBECONFIG: '/tmp/kc' });
  assert.deepEqual(opts.zones, ['clusterset.local']);
  assert.deepEqual(opts.customZones, ['shared.example', 'other.example']);
  assert.deepEqual(opts.listen, { host: '127.0.0.1', port: 0 });
  assert.equal(opts.ttl, 30);
  assert.deepEqual(opts.kubeconfig, { inCluster: false, file: '/tmp/kc' });
  assert.deepEqual(parseCrossDnsOptions(['--listen', ':5353'], inCluster).listen, { host: '0.0.0.0', port: 5353 });
  assert.deepEqual(parseCrossDnsOptions(['--nameserver-addresses', '10.96.0.11, fd00::11'], inCluster).nameserverAddresses, ['10.96.0.11', 'fd00::11']);
  assert.deepEqual(parseCrossDnsOptions(['--metrics-address', '127.0.0.1:0'], inCluster).metricsAddress, { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseCrossDnsOptions(['--reverse-cidrs', '10.112.0.0/15, 10.113.0.0/16'], inCluster).reverseZones, ['112.10.in-addr.arpa', '113.10.in-addr.arpa']);
});

test('bad flags fail at start and say what to pass', () => {
  const bad: [string[], RegExp][] = [
    [['--zones', ''], /at least one zone/],
    [['--zones', 'bad zone'], /not a domain name/],
    [['--zones', 'clusterset.local,svc.clusterset.local'], /overlap/],
    [['--custom-zones', 'x.clusterset.local'], /overlaps the multicluster zone clusterset.local/],
    [['--custom-zones', 'hyperos.local'], /overlaps/],
    [['--reverse-cidrs', '10.112.0.0'], /--reverse-cidrs: "10\.112\.0\.0" has no prefix length/],
    [['--listen', '53'], /host:port/],
    [['--metrics-address', '9464'], /--metrics-address must be host:port/],
    [['--ttl=-1'], /whole seconds/],
    [['--ttl', '1.5'], /whole seconds/],
    [['--log-level', 'loud'], /--log-level/],
    [['--nameserver-addresses', '10.96.0.11,crossdns'], /--nameserver-addresses takes IP addresses.*"crossdns"/],
    [['--unknown'], /Unknown option/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parseCrossDnsOptions(argv, inCluster), message, argv.join(' '));
  assert.throws(() => parseCrossDnsOptions([], {}), /KUBECONFIG/);
});

test('--max-tcp-connections must be a whole number of at least 1', () => {
  assert.equal(parseCrossDnsOptions(['--max-tcp-connections', '50'], inCluster).maxTcpConnections, 50);
  for (const bad of ['0', '-3', '2.5', 'many']) assert.throws(() => parseCrossDnsOptions([`--max-tcp-connections=${bad}`], inCluster), /--max-tcp-connections must be a whole number of at least 1/);
});
