import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reverseName, reverseZones } from './reverse.js';

test('an IPv4 address reads backwards under in-addr.arpa', () => {
  assert.equal(reverseName('10.112.240.1'), '1.240.112.10.in-addr.arpa');
});

test('a network is covered by the reverse zones of the next octet boundary, as CoreDNS splits a CIDR server block', () => {
  assert.deepEqual(reverseZones('10.0.0.0/8'), ['10.in-addr.arpa']);
  assert.deepEqual(reverseZones('10.112.0.0/16'), ['112.10.in-addr.arpa']);
  const global = reverseZones('10.112.0.0/12');
  assert.equal(global.length, 16);
  assert.equal(global[0], '112.10.in-addr.arpa');
  assert.equal(global[15], '127.10.in-addr.arpa');
  assert.deepEqual(reverseZones('192.168.4.0/23'), ['4.168.192.in-addr.arpa', '5.168.192.in-addr.arpa']);
  assert.deepEqual(reverseZones('192.168.4.7/32'), ['7.4.168.192.in-addr.arpa']);
});

test('a malformed, too wide or IPv6 network is refused with what to give instead', () => {
  assert.throws(() => reverseZones('10.112.0.0'), /no prefix length/);
  assert.throws(() => reverseZones('10.112.1.0/12'), /not a network address; did you mean 10\.112\.0\.0\/12/);
  assert.throws(() => reverseZones('0.0.0.0/0'), /wider than a \/8/);
  assert.throws(() => reverseZones('fd00::/64'), /IPv6/);
});
