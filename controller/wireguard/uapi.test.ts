import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireGuardError } from './errors.js';
import { generatePrivateKey, keyToHex, publicKeyOf } from './keys.js';
import { parseGetReply, parseSetReply, planSet } from './uapi.js';
import type { DeviceConfig, DeviceStatus } from './device.js';

const priv = generatePrivateKey();
const peerA = publicKeyOf(generatePrivateKey());
const peerB = publicKeyOf(generatePrivateKey());

test('a get reply gives the device public key (never the private key), peers, handshake and bytes', () => {
  const reply = [
    `private_key=${keyToHex(priv)}`,
    'listen_port=51820',
    `public_key=${keyToHex(peerA)}`,
    'endpoint=198.18.0.21:31820',
    'last_handshake_time_sec=1700000000',
    'last_handshake_time_nsec=500000000',
    'tx_bytes=1024',
    'rx_bytes=2048',
    'persistent_keepalive_interval=25',
    'allowed_ip=10.114.0.0/16',
    'allowed_ip=10.112.0.1/32',
    'protocol_version=1',
    `public_key=${keyToHex(peerB)}`,
    'last_handshake_time_sec=0',
    'last_handshake_time_nsec=0',
    'tx_bytes=0',
    'rx_bytes=0',
    'persistent_keepalive_interval=0',
    'protocol_version=1',
    'errno=0',
  ].join('\n');
  const status = parseGetReply(`${reply}\n\n`);
  assert.equal(status.publicKey, publicKeyOf(priv));
  assert.ok(!JSON.stringify(status).includes(priv), 'private key not kept');
  assert.equal(status.listenPort, 51820);
  assert.deepEqual(status.peers[0], {
    publicKey: peerA,
    endpoint: '198.18.0.21:31820',
    allowedIps: ['10.114.0.0/16', '10.112.0.1/32'],
    persistentKeepalive: 25,
    lastHandshake: new Date(1_700_000_000_500),
    rxBytes: 2048,
    txBytes: 1024,
  });
  assert.deepEqual(status.peers[1], { publicKey: peerB, allowedIps: [], persistentKeepalive: 0, rxBytes: 0, txBytes: 0 });
});

test('malformed replies are refused with a reason, never half-parsed', () => {
  const cases: [string, RegExp][] = [
    ['listen_port=1\n', /empty line/],
    ['listen_port=1\n\n', /no errno/],
    ['nonsense\nerrno=0\n\n', /not key=value/],
    ['listen_port=x\nerrno=0\n\n', /not a whole number/],
    ['mystery=1\nerrno=0\n\n', /unknown device key/],
    [`public_key=${keyToHex(peerA)}\nallowed_ip=banana\nerrno=0\n\n`, /not a CIDR/],
    ['public_key=123\nerrno=0\n\n', /64 lowercase hex/],
    ['errno=0\nlisten_port=1\n\n', /after errno/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseGetReply(text), (e: unknown) => e instanceof WireGuardError && why.test(e.message), JSON.stringify(text));
  }
  assert.throws(() => parseGetReply('errno=2\n\n'), (e: unknown) => e instanceof WireGuardError && e.code === 'REFUSED');
  assert.equal(parseSetReply('errno=0\n\n'), 0);
  assert.equal(parseSetReply('errno=22\n\n'), 22);
  assert.throws(() => parseSetReply('errno=\n\n'), (e: unknown) => e instanceof WireGuardError && e.code === 'MALFORMED');
});

const desired: DeviceConfig = {
  privateKey: priv,
  listenPort: 51820,
  peers: [
    { publicKey: peerA, endpoint: '198.18.0.21:31820', allowedIps: ['10.114.0.0/16'], persistentKeepalive: 25 },
    { publicKey: peerB, allowedIps: ['10.113.1.0/24'] },
  ],
};

test('planning from an empty device sets key, port and every peer', () => {
  const plan = planSet({ listenPort: 0, peers: [] }, desired);
  assert.equal(
    plan,
    [
      'set=1',
      `private_key=${keyToHex(priv)}`,
      'listen_port=51820',
      `public_key=${keyToHex(peerA)}`,
      'endpoint=198.18.0.21:31820',
      'persistent_keepalive_interval=25',
      'replace_allowed_ips=true',
      'allowed_ip=10.114.0.0/16',
      `public_key=${keyToHex(peerB)}`,
      'persistent_keepalive_interval=0',
      'replace_allowed_ips=true',
      'allowed_ip=10.113.1.0/24',
      '',
      '',
    ].join('\n'),
  );
});

test('planning touches only what differs: a converged device needs nothing, a gone peer is removed', () => {
  const converged: DeviceStatus = {
    publicKey: publicKeyOf(priv),
    listenPort: 51820,
    peers: [
      { publicKey: peerA, endpoint: '198.18.0.21:31820', allowedIps: ['10.114.0.0/16'], persistentKeepalive: 25, rxBytes: 5, txBytes: 5 },
      // A peer that dials us: the endpoint it roams from is not ours to reset.
      { publicKey: peerB, endpoint: '198.18.0.99:4000', allowedIps: ['10.113.1.0/24'], persistentKeepalive: 0, rxBytes: 0, txBytes: 0 },
    ],
  };
  assert.equal(planSet(converged, desired), undefined);
  const stale = { ...converged, peers: [...converged.peers, { publicKey: publicKeyOf(generatePrivateKey()), allowedIps: ['10.115.0.0/16'], persistentKeepalive: 0, rxBytes: 0, txBytes: 0 }] };
  const plan = planSet(stale, desired) ?? '';
  assert.match(plan, /^set=1\npublic_key=[0-9a-f]{64}\nremove=true\n\n$/);
  const [a, b] = desired.peers;
  assert.ok(a && b);
  const moved = planSet(converged, { ...desired, peers: [{ ...a, allowedIps: ['10.114.0.0/16', '10.116.0.0/16'] }, b] }) ?? '';
  assert.match(moved, new RegExp(`public_key=${keyToHex(peerA)}\\nendpoint=198\\.18\\.0\\.21:31820\\npersistent_keepalive_interval=25\\nreplace_allowed_ips=true\\nallowed_ip=10\\.114\\.0\\.0/16\\nallowed_ip=10\\.116\\.0\\.0/16\\n\\n$`));
});

test('a configuration that cannot be applied is refused before anything is sent', () => {
  const bad = (peers: DeviceConfig['peers'], listenPort = 51820) => () => planSet({ listenPort: 0, peers: [] }, { privateKey: priv, listenPort, peers });
  const isBad = (re: RegExp) => (e: unknown) => e instanceof WireGuardError && e.code === 'BAD_CONFIG' && re.test(e.message);
  assert.throws(bad([{ publicKey: peerA, allowedIps: ['10.0.0.0/33'] }]), isBad(/allowed IP/));
  assert.throws(bad([{ publicKey: peerA, endpoint: 'hub:31820', allowedIps: [] }]), isBad(/endpoint must be ip:port/));
  assert.throws(bad([], 70000), isBad(/listen port/));
  assert.throws(bad([{ publicKey: peerA, allowedIps: [] }, { publicKey: peerA, allowedIps: [] }]), isBad(/twice/));
});
