import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { decode, encode, RECURSION_DESIRED, type RecordType } from 'dns-packet';
import { encodeFrames, FrameReader, type MuxFrame } from '../../plugin/mux/frame.js';
import { MuxError } from '../../plugin/mux/errors.js';
import { Mux } from '../../plugin/mux/mux.js';
import { encodeMessage, MessageReader, MessageType, type TtrpcMessage } from '../../plugin/ttrpc/frame.js';
import { decodeRequest, encodeRequest } from '../../plugin/ttrpc/codec.js';
import { TtrpcError } from '../../plugin/ttrpc/errors.js';
import { parseGetReply, parseSetReply } from '../../controller/wireguard/uapi.js';
import { WireGuardError } from '../../controller/wireguard/errors.js';
import { generatePrivateKey, keyToHex, publicKeyOf } from '../../controller/wireguard/keys.js';
import { Responder } from '../../controller/crossdns/responder.js';
import { DnsServer } from '../../controller/crossdns/server.js';
import { buildIndex } from '../../controller/crossdns/zoneIndex.js';
import { indexInput, serviceImport } from '../../controller/crossdns/testFixtures.js';
import { applyMutation, fuzz, fuzzBudget, garbage, mutations } from './fuzz.js';

/** Feeds chunks until the reader refuses the stream with its own error type; anything else thrown fails the property. */
function feed<I, T>(push: (chunk: I) => T[], chunks: I[], expected: new (...args: never[]) => Error): { out: T[]; refused: Error | undefined } {
  const out: T[] = [];
  for (const chunk of chunks) {
    try {
      out.push(...push(chunk));
    } catch (err) {
      if (!(err instanceof expected)) throw err;
      return { out, refused: err };
    }
  }
  return { out, refused: undefined };
}

const totalLength = (chunks: Buffer[]) => chunks.reduce((n, c) => n + c.length, 0);

const muxFrames = fc.array(fc.record({ connId: fc.constantFrom(1, 2, 7, 0xffffffff), payload: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) }), { maxLength: 6 });

test('fuzz the NRI multiplexer\'s frame reader: valid streams split anywhere come out whole; mutated or random bytes are refused with MuxError or held, never crash', async (t) => {
  const runs = fuzzBudget(5);
  const seed = await fuzz(
    'mux-frames',
    fc.property(fc.oneof(fc.tuple(muxFrames, mutations).map(([frames, m]) => ({ frames, ...applyMutation(Buffer.concat(frames.flatMap((f) => encodeFrames(f.connId, f.payload))), m) })), garbage.map((chunks) => ({ frames: undefined, chunks, changed: true }))), (c) => {
      const { out, refused } = feed((b) => new FrameReader().push(b), [Buffer.concat(c.chunks)], MuxError);
      const reader = new FrameReader();
      const split = feed((b) => reader.push(b), c.chunks, MuxError);
      assert.ok(totalLength(split.out.map((f: MuxFrame) => f.payload)) <= totalLength(c.chunks), 'never more payload out than bytes in');
      assert.equal(split.refused?.constructor, refused?.constructor, 'splitting the stream does not change whether it is refused');
      assert.deepEqual(split.out.slice(0, out.length), out.slice(0, split.out.length), 'splitting the stream does not change the frames');
      if (!c.changed && c.frames) {
        assert.equal(split.refused, undefined);
        assert.deepEqual(split.out.map((f) => [f.connId, f.payload.toString('hex')]), c.frames.map((f) => [f.connId, f.payload.toString('hex')]));
      }
    }),
    runs,
  );
  t.diagnostic(`mux-frames: ${runs} runs, seed ${seed}`);
});

const ttrpcRequests = fc.array(
  fc.record({ streamId: fc.integer({ min: 1, max: 99 }).map((n) => n * 2 - 1), service: fc.string({ maxLength: 40 }), method: fc.string({ maxLength: 20 }), payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), timeoutNano: fc.nat() }),
  { maxLength: 4 },
);

test('fuzz ttrpc: message framing and request envelopes; valid ones decode exactly, anything else is refused with TtrpcError', async (t) => {
  const runs = fuzzBudget(5);
  const seed = await fuzz(
    'ttrpc-requests',
    fc.property(
      fc.oneof(
        fc.tuple(ttrpcRequests, mutations).map(([reqs, m]) => ({ reqs, ...applyMutation(Buffer.concat(reqs.map((r) => encodeMessage({ streamId: r.streamId, type: MessageType.Request, flags: 0, data: encodeRequest(r) }))), m) })),
        garbage.map((chunks) => ({ reqs: undefined, chunks, changed: true })),
      ),
      (c) => {
        const r = new MessageReader();
        const { out, refused } = feed((b) => r.push(b), c.chunks, TtrpcError);
        const decoded = feed((m: TtrpcMessage) => (m.type === MessageType.Request ? [decodeRequest(m.data)] : []), out, TtrpcError);
        if (!c.changed && c.reqs) {
          assert.equal(refused, undefined);
          assert.equal(decoded.refused, undefined);
          assert.deepEqual(
            decoded.out.map((d) => [d.service, d.method, Buffer.from(d.payload).toString('hex')]),
            c.reqs.map((q) => [q.service, q.method, q.payload.toString('hex')]),
          );
        }
      },
    ),
    runs,
  );
  t.diagnostic(`ttrpc-requests: ${runs} runs, seed ${seed}`);
});

test('fuzz the multiplexer on a real unix socket: whatever a peer sends, the Mux ends with a MuxError or a clean close, and the process lives on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-fuzz-'));
  const path = join(dir, 'nri.sock');
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  t.after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const runs = fuzzBudget(0.1);
  const seed = await fuzz(
    'mux-socket',
    fc.asyncProperty(fc.oneof(garbage, fc.tuple(muxFrames, mutations).map(([frames, m]) => applyMutation(Buffer.concat(frames.flatMap((f) => encodeFrames(f.connId, f.payload))), m).chunks)), async (chunks) => {
      const accepted = once(server, 'connection') as Promise<[Socket]>;
      const client = connect(path);
      const [trunk] = await accepted;
      const mux = new Mux(trunk);
      const received: Buffer[] = [];
      mux.open(1, (b) => received.push(b));
      mux.open(2, (b) => received.push(b));
      const closed = new Promise<Error | undefined>((resolve) => mux.onClose(resolve));
      mux.start();
      for (const c of chunks) client.write(c);
      client.end();
      const why = await closed;
      client.destroy();
      assert.ok(why === undefined || why instanceof MuxError, `closed with ${String(why)}`);
      assert.ok(totalLength(received) <= totalLength(chunks));
    }),
    runs,
  );
  t.diagnostic(`mux-socket: ${runs} runs, seed ${seed}`);
});

const validGetReply = (): string => {
  const [a, b] = [publicKeyOf(generatePrivateKey()), publicKeyOf(generatePrivateKey())];
  return `${[`private_key=${keyToHex(generatePrivateKey())}`, 'listen_port=51820', `public_key=${keyToHex(a)}`, 'endpoint=198.18.0.21:31820', 'last_handshake_time_sec=1700000000', 'last_handshake_time_nsec=5', 'tx_bytes=1024', 'rx_bytes=2048', 'persistent_keepalive_interval=25', 'allowed_ip=10.114.0.0/16', 'protocol_version=1', `public_key=${keyToHex(b)}`, 'allowed_ip=10.112.0.1/32', 'errno=0'].join('\n')}\n\n`;
};

test('fuzz the WireGuard UAPI reply parser: valid replies parse, mutated or random ones are refused with WireGuardError', async (t) => {
  const runs = fuzzBudget(5);
  const valid = validGetReply();
  const seed = await fuzz(
    'uapi-replies',
    fc.property(fc.oneof(mutations.map((m) => applyMutation(Buffer.from(valid), m)), garbage.map((chunks) => ({ chunks, changed: true }))), (c) => {
      const text = Buffer.concat(c.chunks).toString('latin1');
      for (const parse of [parseGetReply, parseSetReply]) {
        try {
          parse(text);
        } catch (err) {
          assert.ok(err instanceof WireGuardError, `${parse.name} threw ${String(err)}`);
        }
      }
      if (!c.changed) assert.equal(parseGetReply(text).peers.length, 2);
    }),
    runs,
  );
  t.diagnostic(`uapi-replies: ${runs} runs, seed ${seed}`);
});

const index = buildIndex(
  indexInput([serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.112.240.1'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] })]),
  { zones: ['clusterset.local'], customZones: [], reverseZones: [], nameserverAddresses: [], ttl: 5, serial: 1 },
).index;
const newResponder = (internal: unknown[]) => new Responder(index, { maxUdpPayload: 1232, cacheEntries: 100, onBadQuery: () => undefined, onInternalError: (err) => internal.push(err), onQuery: () => undefined });
const dnsQueries = fc
  .record({ id: fc.nat(0xffff), name: fc.constantFrom('nginx.default.svc.clusterset.local', 'missing.default.svc.clusterset.local', 'clusterset.local', 'example.org'), type: fc.constantFrom<RecordType>('A', 'AAAA', 'SRV', 'TXT', 'NS', 'SOA') })
  .map((q) => encode({ type: 'query', id: q.id, flags: RECURSION_DESIRED, questions: [{ type: q.type, name: q.name, class: 'IN' }] }));

test('fuzz the DNS responder: every answer it gives decodes and carries the query\'s id; valid queries are always answered; nothing reaches the internal-error path', async (t) => {
  const runs = fuzzBudget(5);
  const internal: unknown[] = [];
  const responder = newResponder(internal);
  const seed = await fuzz(
    'dns-responder',
    fc.property(fc.oneof(fc.tuple(dnsQueries, mutations).map(([q, m]) => ({ q, ...applyMutation(q, m) })), garbage.map((chunks) => ({ q: undefined, chunks, changed: true }))), fc.constantFrom('udp' as const, 'tcp' as const), (c, transport) => {
      const query = Buffer.concat(c.chunks);
      const out = responder.respond(query, transport);
      if (!c.changed) assert.ok(out, 'a valid query is answered');
      if (out) {
        const answer = decode(out);
        assert.equal(answer.id, query.readUInt16BE(0));
      }
      assert.deepEqual(internal, []);
    }),
    runs,
  );
  t.diagnostic(`dns-responder: ${runs} runs, seed ${seed}`);
});

test('fuzz crossdns over the network: random datagrams and TCP streams, then a valid query is still answered', async (t) => {
  const internal: unknown[] = [];
  const server = new DnsServer(newResponder(internal), { host: '127.0.0.1', port: 0, tcpIdleMs: 1000, maxTcpConnections: 16, log: pino({ level: 'silent' }) });
  await server.start();
  const udp = createSocket('udp4');
  t.after(async () => {
    udp.close();
    await server.stop();
  });
  const runs = fuzzBudget(0.2);
  const rssBefore = process.memoryUsage().rss;
  const seed = await fuzz(
    'dns-server',
    fc.asyncProperty(fc.oneof(garbage, fc.tuple(dnsQueries, mutations).map(([q, m]) => applyMutation(q, m).chunks)), async (chunks) => {
      for (const c of chunks) udp.send(c, server.port, '127.0.0.1');
      const tcp = connect(server.port, '127.0.0.1');
      await once(tcp, 'connect');
      for (const c of chunks) tcp.write(c);
      tcp.end();
      tcp.resume();
      await once(tcp, 'close');
    }),
    runs,
  );
  // Replies to the fuzz datagrams may still arrive: wait, up to a deadline, for the one with our id.
  udp.removeAllListeners('message');
  const answered = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('crossdns did not answer a valid query after the fuzzing')), 5000);
    udp.on('message', (m: Buffer) => {
      if (m.readUInt16BE(0) !== 7) return;
      clearTimeout(timer);
      resolve(m);
    });
  });
  udp.send(encode({ type: 'query', id: 7, flags: RECURSION_DESIRED, questions: [{ type: 'A', name: 'nginx.default.svc.clusterset.local', class: 'IN' }] }), server.port, '127.0.0.1');
  assert.deepEqual((decode(await answered).answers ?? []).map((a) => (a.type === 'A' ? a.data : a.type)), ['10.112.240.1']);
  assert.deepEqual(internal, []);
  const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  t.diagnostic(`dns-server: ${runs} runs, seed ${seed}, RSS grew ${grewMb.toFixed(1)} MB`);
  assert.ok(grewMb < 200, `memory stays bounded: RSS grew ${grewMb.toFixed(1)} MB`);
});
