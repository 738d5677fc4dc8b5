import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressToInt,
  cidrSize,
  contains,
  containsCidr,
  firstFreeSubnet,
  firstUsableAddress,
  formatCidr,
  intToAddress,
  lastAddress,
  nthSubnet,
  overlaps,
  parseCidr,
  subnetCount,
  subtractCidr,
} from './cidr.js';

test('parses a network in CIDR notation and formats it back', () => {
  const cidr = parseCidr('10.112.0.0/12');
  assert.deepEqual(cidr, { base: addressToInt('10.112.0.0'), prefix: 12 });
  assert.equal(formatCidr(cidr), '10.112.0.0/12');
  assert.equal(cidrSize(cidr), 2 ** 20);
  assert.equal(intToAddress(lastAddress(cidr)), '10.127.255.255');
  assert.deepEqual(parseCidr('0.0.0.0/0'), { base: 0, prefix: 0 });
  assert.equal(cidrSize(parseCidr('10.1.2.3/32')), 1);
});

test('refuses host bits and suggests the network address', () => {
  assert.throws(() => parseCidr('10.112.1.5/24'), {
    name: 'IpamError',
    code: 'INVALID_CIDR',
    message: '10.112.1.5/24 is not a network address; did you mean 10.112.1.0/24?',
  });
  assert.throws(() => parseCidr('10.113.0.0/12'), { code: 'INVALID_CIDR', message: /did you mean 10\.112\.0\.0\/12\?/ });
});

test('refuses malformed CIDRs with INVALID_CIDR', () => {
  for (const text of ['10.112.0.0', '10.112.0.0/', '10.112.0.0/33', '10.112.0/16', '010.112.0.0/16', ' 10.112.0.0/16', '10.112.0.0/16/16', 'a:b/3', '', '/16']) {
    assert.throws(() => parseCidr(text), { code: 'INVALID_CIDR' }, text);
  }
});

test('refuses IPv6 with its own code', () => {
  assert.throws(() => parseCidr('fd00:10::/64'), { code: 'IPV6_UNSUPPORTED', message: /IPv4-only/ });
  assert.throws(() => addressToInt('fd00::1'), { code: 'IPV6_UNSUPPORTED' });
  assert.throws(() => addressToInt('::ffff:10.0.0.1'), { code: 'IPV6_UNSUPPORTED' });
});

test('converts addresses to integers and back', () => {
  assert.equal(addressToInt('10.112.1.5'), 10 * 2 ** 24 + 112 * 2 ** 16 + 1 * 2 ** 8 + 5);
  assert.equal(addressToInt('0.0.0.0'), 0);
  assert.equal(addressToInt('255.255.255.255'), 2 ** 32 - 1);
  for (const text of ['10.112.1.5', '0.0.0.0', '255.255.255.255', '192.168.0.1']) assert.equal(intToAddress(addressToInt(text)), text);
  for (const text of ['10.112.1.5/32', '10.112.1', '256.0.0.1', '1.2.3.04', 'x']) {
    assert.throws(() => addressToInt(text), { code: 'INVALID_ADDRESS' }, text);
  }
  for (const value of [-1, 2 ** 32, 1.5, Number.NaN]) assert.throws(() => intToAddress(value), { code: 'OUT_OF_RANGE' });
});

test('a /16 holds 256 /24s, numbered in address order', () => {
  const cluster = parseCidr('10.112.0.0/16');
  assert.equal(subnetCount(cluster, 24), 256);
  assert.equal(subnetCount(cluster, 16), 1);
  assert.equal(subnetCount(parseCidr('10.112.0.0/12'), 16), 16);
  assert.equal(subnetCount(parseCidr('0.0.0.0/0'), 1), 2);
  assert.equal(formatCidr(nthSubnet(cluster, 24, 0)), '10.112.0.0/24');
  assert.equal(formatCidr(nthSubnet(cluster, 24, 1)), '10.112.1.0/24');
  assert.equal(formatCidr(nthSubnet(cluster, 24, 255)), '10.112.255.0/24');
  assert.equal(formatCidr(nthSubnet(parseCidr('10.112.0.0/12'), 16, 15)), '10.127.0.0/16');
  let previous = -1;
  for (let n = 0; n < 256; n++) {
    const subnet = nthSubnet(cluster, 24, n);
    assert.ok(subnet.base > previous);
    assert.ok(containsCidr(cluster, subnet));
    if (n > 0) assert.equal(overlaps(subnet, nthSubnet(cluster, 24, n - 1)), false);
    previous = subnet.base;
  }
  assert.throws(() => nthSubnet(cluster, 24, 256), { code: 'OUT_OF_RANGE', message: /has 256 \/24 subnets/ });
  assert.throws(() => nthSubnet(cluster, 24, -1), { code: 'OUT_OF_RANGE' });
  assert.throws(() => subnetCount(cluster, 8), { code: 'INVALID_PREFIX' });
  assert.throws(() => subnetCount(cluster, 33), { code: 'INVALID_PREFIX' });
  assert.throws(() => subnetCount(cluster, 24.5), { code: 'INVALID_PREFIX' });
});

test('contains and overlaps', () => {
  const global = parseCidr('10.112.0.0/12');
  const node = parseCidr('10.112.1.0/24');
  assert.equal(contains(node, addressToInt('10.112.1.0')), true);
  assert.equal(contains(node, addressToInt('10.112.1.255')), true);
  assert.equal(contains(node, addressToInt('10.112.2.0')), false);
  assert.equal(contains(node, addressToInt('10.112.0.255')), false);
  assert.equal(containsCidr(global, node), true);
  assert.equal(containsCidr(node, global), false);
  assert.equal(containsCidr(global, parseCidr('10.128.0.0/16')), false);
  assert.equal(overlaps(global, node), true);
  assert.equal(overlaps(node, global), true);
  assert.equal(overlaps(node, node), true);
  assert.equal(overlaps(node, parseCidr('10.112.2.0/24')), false);
  assert.equal(overlaps(global, parseCidr('10.96.0.0/12')), false);
  assert.equal(overlaps(parseCidr('0.0.0.0/0'), node), true);
});

test('the first usable address is the gateway', () => {
  assert.equal(intToAddress(firstUsableAddress(parseCidr('10.112.1.0/24'))), '10.112.1.1');
  assert.equal(intToAddress(firstUsableAddress(parseCidr('10.112.0.0/16'))), '10.112.0.1');
  assert.equal(intToAddress(firstUsableAddress(parseCidr('10.112.1.4/31'))), '10.112.1.4');
  assert.equal(intToAddress(firstUsableAddress(parseCidr('10.112.1.7/32'))), '10.112.1.7');
});

test('subtracting a cluster CIDR from the global CIDR leaves exactly the other addresses', () => {
  const global = parseCidr('10.112.0.0/12');
  const own = parseCidr('10.113.0.0/16');
  const rest = subtractCidr(global, own);
  assert.deepEqual(rest.map(formatCidr), ['10.112.0.0/16', '10.114.0.0/15', '10.116.0.0/14', '10.120.0.0/13']);
  const total = rest.reduce((n, c) => n + cidrSize(c), 0);
  assert.equal(total, cidrSize(global) - cidrSize(own));
  for (const c of rest) assert.ok(!overlaps(c, own) && containsCidr(global, c));
  assert.deepEqual(subtractCidr(own, global), [], 'nothing is left of a range inside the one removed');
  assert.deepEqual(subtractCidr(own, parseCidr('10.200.0.0/16')).map(formatCidr), ['10.113.0.0/16'], 'a disjoint range removes nothing');
});

test('the first free subnet skips every taken range, and there is none when all are taken', () => {
  const global = parseCidr('10.112.0.0/12');
  assert.equal(formatCidr(firstFreeSubnet(global, 16, []) ?? global), '10.112.0.0/16');
  const taken = ['10.112.0.0/16', '10.113.5.0/24'].map(parseCidr);
  assert.equal(formatCidr(firstFreeSubnet(global, 16, taken) ?? global), '10.114.0.0/16', 'a /24 inside a /16 makes the whole /16 taken');
  assert.equal(firstFreeSubnet(parseCidr('10.112.0.0/15'), 16, taken), undefined);
});
