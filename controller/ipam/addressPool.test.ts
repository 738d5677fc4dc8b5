import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpamError } from './errors.js';
import { NodeAddressPool, macForAddress } from './addressPool.js';
import { addressToInt } from './cidr.js';

test('a /24 hands out .2 to .254: never the network, gateway or broadcast address', () => {
  const pool = new NodeAddressPool('10.112.1.0/24');
  assert.equal(pool.cidr, '10.112.1.0/24');
  assert.equal(pool.gateway, '10.112.1.1');
  assert.equal(pool.size, 253);
  const handed = new Set<string>();
  for (let i = 0; i < pool.size; i++) handed.add(pool.allocate(`pod-${i}`));
  assert.equal(handed.size, 253);
  assert.equal(pool.used, 253);
  for (const never of ['10.112.1.0', '10.112.1.1', '10.112.1.255']) assert.equal(handed.has(never), false, never);
  assert.equal(pool.allocate('pod-0'), '10.112.1.2');
  assert.equal(pool.addressOf('pod-252'), '10.112.1.254');
});

test('allocate is idempotent per owner', () => {
  const pool = new NodeAddressPool('10.112.1.0/24');
  const first = pool.allocate('uid-a');
  assert.equal(first, '10.112.1.2');
  assert.equal(pool.allocate('uid-a'), first);
  assert.equal(pool.allocate('uid-b'), '10.112.1.3');
  assert.equal(pool.allocate('uid-a'), first);
  assert.equal(pool.used, 2);
  assert.equal(pool.holder(first), 'uid-a');
  assert.equal(pool.addressOf('uid-b'), '10.112.1.3');
  assert.equal(pool.holder('10.112.1.9'), undefined);
  assert.equal(pool.addressOf('uid-z'), undefined);
  assert.throws(() => pool.allocate(''), { code: 'INVALID_OWNER' });
});

test('a released address is not handed out again at once', () => {
  const pool = new NodeAddressPool('10.112.1.0/24');
  const a = pool.allocate('a');
  assert.equal(pool.release('a'), true);
  assert.equal(pool.release('a'), false);
  assert.equal(pool.holder(a), undefined);
  assert.notEqual(pool.allocate('b'), a);
  // Even the same pod coming back gets a fresh address.
  assert.notEqual(pool.allocate('a'), a);
});

test('the cursor wraps around and reuses freed addresses only when it comes back to them', () => {
  const pool = new NodeAddressPool('10.112.1.0/29'); // hosts .2 to .6
  assert.equal(pool.size, 5);
  const got = ['a', 'b', 'c', 'd'].map((o) => pool.allocate(o));
  assert.deepEqual(got, ['10.112.1.2', '10.112.1.3', '10.112.1.4', '10.112.1.5']);
  pool.release('b');
  assert.equal(pool.allocate('e'), '10.112.1.6');
  assert.equal(pool.allocate('f'), '10.112.1.3');
});

test('exhaustion says how big the CIDR is and what to change', () => {
  const pool = new NodeAddressPool('10.112.1.0/29');
  for (let i = 0; i < 5; i++) pool.allocate(`pod-${i}`);
  assert.throws(
    () => pool.allocate('one-too-many'),
    (err: unknown) => {
      assert.ok(err instanceof IpamError);
      assert.equal(err.code, 'POOL_EXHAUSTED');
      assert.match(err.message, /all 5 pod addresses/);
      assert.match(err.message, /has 8 addresses/);
      assert.match(err.message, /use a larger node CIDR, i\.e\. a prefix shorter than \/29/);
      return true;
    },
  );
  // Owners that already hold an address still get it, and a release makes room.
  assert.equal(pool.allocate('pod-3'), '10.112.1.5');
  pool.release('pod-3');
  assert.equal(pool.allocate('one-too-many'), '10.112.1.5');

  const tiny = new NodeAddressPool('10.112.1.4/30');
  assert.equal(tiny.size, 1);
  assert.equal(tiny.gateway, '10.112.1.5');
  assert.equal(tiny.allocate('x'), '10.112.1.6');
  assert.throws(() => tiny.allocate('y'), { code: 'POOL_EXHAUSTED' });
});

test('refuses node CIDRs with no room for a pod, and bad CIDRs', () => {
  assert.throws(() => new NodeAddressPool('10.112.1.0/31'), { code: 'INVALID_PREFIX', message: /\/30 or shorter/ });
  assert.throws(() => new NodeAddressPool('10.112.1.1/32'), { code: 'INVALID_PREFIX' });
  assert.throws(() => new NodeAddressPool('10.112.1.5/24'), { code: 'INVALID_CIDR' });
  assert.throws(() => new NodeAddressPool('fd00::/64'), { code: 'IPV6_UNSUPPORTED' });
});

test('reserve rebuilds a pool and refuses what cannot be', () => {
  const pool = new NodeAddressPool('10.112.1.0/24');
  pool.reserve('uid-a', '10.112.1.7');
  pool.reserve('uid-b', '10.112.1.3');
  pool.reserve('uid-a', '10.112.1.7'); // repeating is fine
  assert.equal(pool.used, 2);
  assert.equal(pool.holder('10.112.1.7'), 'uid-a');
  assert.equal(pool.allocate('uid-a'), '10.112.1.7');

  assert.throws(() => pool.reserve('uid-c', '10.112.2.7'), { code: 'OUT_OF_RANGE' });
  assert.throws(() => pool.reserve('uid-c', '10.112.1.1'), { code: 'ADDRESS_RESERVED', message: /gateway/ });
  assert.throws(() => pool.reserve('uid-c', '10.112.1.0'), { code: 'ADDRESS_RESERVED', message: /network address/ });
  assert.throws(() => pool.reserve('uid-c', '10.112.1.255'), { code: 'ADDRESS_RESERVED', message: /broadcast address/ });
  assert.throws(() => pool.reserve('uid-c', '10.112.1.7'), { code: 'ADDRESS_TAKEN', message: /already held by uid-a/ });
  assert.throws(() => pool.reserve('uid-a', '10.112.1.8'), { code: 'ALREADY_ALLOCATED', message: /uid-a already holds 10\.112\.1\.7/ });
  assert.throws(() => pool.reserve('uid-c', 'not-an-ip'), { code: 'INVALID_ADDRESS' });
  assert.throws(() => pool.reserve('', '10.112.1.9'), { code: 'INVALID_OWNER' });
  assert.equal(pool.used, 2);

  // After a rebuild, allocation carries on after the highest address in use.
  assert.equal(pool.allocate('uid-new'), '10.112.1.8');
});

test('MAC addresses follow the OVN-Kubernetes convention', () => {
  assert.equal(macForAddress('10.112.1.5'), '0a:58:0a:70:01:05');
  assert.equal(macForAddress('255.255.255.255'), '0a:58:ff:ff:ff:ff');
  assert.equal(macForAddress('0.0.0.0'), '0a:58:00:00:00:00');
  assert.throws(() => macForAddress('10.112.1.5/24'), { code: 'INVALID_ADDRESS' });
});

/** Small deterministic PRNG (mulberry32), so a failing sequence can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('random allocate/release/reserve sequences never give one address to two owners', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const random = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const cidr = pick(['10.112.1.0/28', '10.112.1.0/29', '10.112.1.0/30', '10.112.4.0/27']);
    const pool = new NodeAddressPool(cidr);
    const owners = Array.from({ length: pool.size + 4 }, (_, i) => `uid-${i}`);
    const model = new Map<string, string>();
    for (let step = 0; step < 300; step++) {
      const owner = pick(owners);
      const op = random();
      const where = `seed ${seed} step ${step} (${cidr})`;
      if (op < 0.5) {
        try {
          const ip = pool.allocate(owner);
          const before = model.get(owner);
          if (before !== undefined) assert.equal(ip, before, `${where}: idempotent`);
          model.set(owner, ip);
        } catch (err) {
          assert.ok(err instanceof IpamError && err.code === 'POOL_EXHAUSTED', `${where}: ${String(err)}`);
          assert.equal(model.has(owner), false, where);
          assert.equal(model.size, pool.size, `${where}: exhausted only when full`);
        }
      } else if (op < 0.85) {
        assert.equal(pool.release(owner), model.delete(owner), where);
      } else {
        // Reserve a random address, as a rebuild from (possibly conflicting) annotations would.
        const ip = `10.112.${cidr.startsWith('10.112.4') ? 4 : 1}.${Math.floor(random() * 40)}`;
        try {
          pool.reserve(owner, ip);
          const before = model.get(owner);
          assert.ok(before === undefined || before === ip, where);
          model.set(owner, ip);
        } catch (err) {
          assert.ok(err instanceof IpamError, `${where}: ${String(err)}`);
          assert.ok(['OUT_OF_RANGE', 'ADDRESS_RESERVED', 'ADDRESS_TAKEN', 'ALREADY_ALLOCATED'].includes(err.code), where);
        }
      }
      // Invariants: the pool agrees with the model, and the model's addresses are distinct host addresses.
      assert.equal(pool.used, model.size, where);
      const seen = new Set<string>();
      for (const [o, ip] of model) {
        assert.equal(seen.has(ip), false, `${where}: ${ip} handed out twice`);
        seen.add(ip);
        assert.equal(pool.addressOf(o), ip, where);
        assert.equal(pool.holder(ip), o, where);
        assert.notEqual(ip, pool.gateway, where);
        const base = addressToInt(pool.cidr.split('/')[0] ?? '');
        const offset = addressToInt(ip) - base;
        assert.ok(offset >= 2 && offset <= pool.size + 1, `${where}: ${ip} is a pod address of ${pool.cidr}`);
      }
    }
  }
});
