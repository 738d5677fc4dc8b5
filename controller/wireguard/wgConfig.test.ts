import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireGuardError } from './errors.js';
import { generatePrivateKey, publicKeyOf } from './keys.js';
import { planSet } from './uapi.js';
import { renderWgConfig } from './wgConfig.js';
import type { DeviceConfig, PeerConfig } from './device.js';

const priv = generatePrivateKey();
const peerA = publicKeyOf(generatePrivateKey());
const peerB = publicKeyOf(generatePrivateKey());

const desired: DeviceConfig = {
  privateKey: priv,
  listenPort: 51820,
  peers: [
    { publicKey: peerA, endpoint: '198.18.0.21:31820', allowedIps: ['10.114.0.0/16', '10.112.0.1/32'], persistentKeepalive: 25 },
    { publicKey: peerB, allowedIps: ['10.113.1.0/24'] },
  ],
};

test('a config renders as wg config text: every peer states its keepalive, a peer that dials us has no endpoint', () => {
  assert.equal(
    renderWgConfig(desired),
    [
      '[Interface]',
      `PrivateKey = ${priv}`,
      'ListenPort = 51820',
      '',
      '[Peer]',
      `PublicKey = ${peerA}`,
      'Endpoint = 198.18.0.21:31820',
      'AllowedIPs = 10.114.0.0/16, 10.112.0.1/32',
      'PersistentKeepalive = 25',
      '',
      '[Peer]',
      `PublicKey = ${peerB}`,
      'AllowedIPs = 10.113.1.0/24',
      'PersistentKeepalive = 0',
      '',
    ].join('\n'),
  );
});

test('no peers: only the interface section (syncconf then removes every peer); a peer without allowed IPs has no AllowedIPs line', () => {
  assert.equal(renderWgConfig({ privateKey: priv, listenPort: 0, peers: [] }), `[Interface]\nPrivateKey = ${priv}\nListenPort = 0\n`);
  assert.doesNotMatch(renderWgConfig({ ...desired, peers: [{ publicKey: peerA, allowedIps: [] }] }), /AllowedIPs/);
});

test('values that would add lines, sections, allowed IPs or comments are refused by both the wg and the UAPI path', () => {
  const peer = (p: Partial<PeerConfig>): DeviceConfig => ({ ...desired, peers: [{ publicKey: peerA, allowedIps: [], ...p }] });
  const cases: [DeviceConfig, RegExp][] = [
    [{ ...desired, privateKey: `${priv}\nListenPort = 1` }, /private key must be 32 bytes/],
    [peer({ publicKey: `${peerA}\n[Peer]` }), /peer public key must be 32 bytes/],
    [peer({ endpoint: '198.18.0.21:31820\nAllowedIPs = 0.0.0.0/0' }), /endpoint must be ip:port/],
    [peer({ endpoint: '198.18.0.21:31820 # x' }), /endpoint must be ip:port/],
    [peer({ allowedIps: ['10.114.0.0/16\nEndpoint = 203.0.113.9:1'] }), /allowed IP/],
    [peer({ allowedIps: ['10.114.0.0/16, 0.0.0.0/0'] }), /allowed IP/],
    [peer({ allowedIps: ['10.114.0.1/16'] }), /not a network address/],
    [peer({ persistentKeepalive: 1.5 }), /persistent keepalive/],
    [{ ...desired, listenPort: 70000 }, /listen port/],
    [{ ...desired, peers: [{ publicKey: peerA, allowedIps: [] }, { publicKey: peerA, allowedIps: [] }] }, /twice/],
  ];
  for (const render of [renderWgConfig, (c: DeviceConfig) => planSet({ listenPort: 0, peers: [] }, c)]) {
    for (const [config, why] of cases) {
      assert.throws(
        () => render(config),
        (e: unknown) => e instanceof WireGuardError && (e.code === 'BAD_CONFIG' || e.code === 'BAD_KEY') && why.test(e.message),
        JSON.stringify(config.peers[0] ?? config.listenPort),
      );
    }
  }
});
