import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireGuardError } from './errors.js';
import { generatePrivateKey, publicKeyOf } from './keys.js';
import { parseWgDump } from './wgDump.js';

const priv = generatePrivateKey();
const peerA = publicKeyOf(generatePrivateKey());
const peerB = publicKeyOf(generatePrivateKey());
const psk = generatePrivateKey();

const dump = [
  [priv, publicKeyOf(priv), '51820', 'off'],
  [peerA, psk, '198.18.0.21:31820', '10.114.0.0/16,10.112.0.1/32', '1700000000', '2048', '1024', '25'],
  [peerB, '(none)', '(none)', '(none)', '0', '0', '0', 'off'],
]
  .map((fields) => fields.join('\t'))
  .join('\n')
  .concat('\n');

test('a dump gives the public key (never the private one), peers, handshake and bytes; "(none)", "off" and 0 are unset', () => {
  const status = parseWgDump(dump);
  assert.ok(!JSON.stringify(status).includes(priv), 'private key not kept');
  assert.ok(!JSON.stringify(status).includes(psk), 'preshared key not kept');
  assert.deepEqual(status, {
    publicKey: publicKeyOf(priv),
    listenPort: 51820,
    peers: [
      {
        publicKey: peerA,
        endpoint: '198.18.0.21:31820',
        allowedIps: ['10.114.0.0/16', '10.112.0.1/32'],
        persistentKeepalive: 25,
        lastHandshake: new Date(1_700_000_000_000),
        rxBytes: 2048,
        txBytes: 1024,
      },
      { publicKey: peerB, allowedIps: [], persistentKeepalive: 0, rxBytes: 0, txBytes: 0 },
    ],
  });
});

test('a device without keys, with an fwmark and IPv6 endpoints and allowed IPs, as wg prints them', () => {
  const text = `(none)\t(none)\t0\t0x1234\n${peerA}\t(none)\t[fd00::1]:51820\tfd00::/64,10.0.0.0/8\t0\t0\t0\toff\n`;
  assert.deepEqual(parseWgDump(text), {
    listenPort: 0,
    peers: [{ publicKey: peerA, endpoint: '[fd00::1]:51820', allowedIps: ['fd00::/64', '10.0.0.0/8'], persistentKeepalive: 0, rxBytes: 0, txBytes: 0 }],
  });
});

test('malformed dumps are refused with a reason, never half-parsed, and never quote a secret key', () => {
  const peerLine = (i: number, value: string) => {
    const fields = [peerA, '(none)', '(none)', '(none)', '0', '0', '0', 'off'];
    fields[i] = value;
    return `(none)\t(none)\t0\toff\n${fields.join('\t')}\n`;
  };
  const cases: [string, RegExp][] = [
    ['', /newline/],
    ['\n', /interface line has 1 fields/],
    [dump.slice(0, -1), /newline/],
    [`(none)\t(none)\t51820\n`, /interface line has 3 fields/],
    [`${priv.slice(1)}x\t(none)\t1\toff\n`, /private key is not a base64 key/],
    [`(none)\tnope\t1\toff\n`, /public key "nope"/],
    [`(none)\t(none)\t70000\toff\n`, /listen port "70000" is not a whole number up to 65535/],
    [`(none)\t(none)\t1\tmark\n`, /fwmark/],
    [`(none)\t(none)\t1\toff\n\n`, /peer line has 1 fields/],
    [peerLine(0, 'x'), /peer public key "x"/],
    [peerLine(1, `${psk.slice(1)}x`), /preshared key is not a base64 key/],
    [peerLine(2, 'hub:31820'), /endpoint "hub:31820" is not ip:port/],
    [peerLine(3, '10.0.0.0/8,banana'), /allowed IP "banana" is not a CIDR/],
    [peerLine(4, '-1'), /latest handshake/],
    [peerLine(5, '1e3'), /rx bytes/],
    [peerLine(6, ''), /tx bytes/],
    [peerLine(7, '70000'), /persistent keepalive/],
    [`${peerLine(0, peerA)}${peerA}\textra\n`, /peer line has 2 fields/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseWgDump(text),
      (e: unknown) => e instanceof WireGuardError && e.code === 'MALFORMED' && why.test(e.message) && !e.message.includes(priv.slice(1, 20)) && !e.message.includes(psk.slice(1, 20)),
      JSON.stringify(text),
    );
  }
});

test('garbled dumps yield a status or a MALFORMED error, nothing else', () => {
  const alphabet = '\t\n,:/[]()0123456789abcdefnoe=+ ';
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 2000; i++) {
    let text = dump;
    for (let edits = 1 + random(4); edits > 0; edits--) {
      const at = random(text.length);
      text = text.slice(0, at) + (random(2) ? alphabet.charAt(random(alphabet.length)) : '') + text.slice(at + random(3));
    }
    try {
      parseWgDump(text);
    } catch (err) {
      assert.ok(err instanceof WireGuardError && err.code === 'MALFORMED', `${JSON.stringify(text)}: ${String(err)}`);
    }
  }
});
