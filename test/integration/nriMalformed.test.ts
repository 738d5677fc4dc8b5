import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { NriStub } from '../../plugin/nri/stub.js';
import { encodeFrames, MUX_HEADER_LENGTH } from '../../plugin/mux/frame.js';
import { encodeMessage, MessageType } from '../../plugin/ttrpc/frame.js';
import { waitFor } from '../harness/wait.js';

/**
 * The real runtime never sends malformed frames, so this test stands in a
 * deliberately broken runtime on the NRI socket: each connection gets one kind
 * of garbage, and the plugin must drop that connection, say why, and dial again.
 */
const garbage: { what: string; bytes: Buffer; logged: RegExp }[] = [
  { what: 'a frame for a connection that is not open', bytes: Buffer.concat(encodeFrames(7, Buffer.from('hi'))), logged: /connection 7/ },
  {
    what: 'a frame larger than any runtime sends',
    bytes: (() => {
      const h = Buffer.alloc(MUX_HEADER_LENGTH);
      h.writeUInt32BE(1, 0);
      h.writeUInt32BE(0xffffffff, 4);
      return h;
    })(),
    logged: /frame payload/,
  },
  {
    what: 'a ttrpc message of unknown type',
    bytes: Buffer.concat(encodeFrames(1, encodeMessage({ streamId: 1, type: 7, flags: 0, data: Buffer.alloc(0) }))),
    logged: /unknown type 7/,
  },
  {
    what: 'a request that is not protobuf',
    bytes: Buffer.concat(encodeFrames(1, encodeMessage({ streamId: 1, type: MessageType.Request, flags: 0, data: Buffer.from([0xff, 0xff, 0xff]) }))),
    logged: /cannot decode ttrpc request/,
  },
];

test('malformed frames and messages close only that connection; the plugin logs why and reconnects', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetboard-nri-bad-'));
  const socketPath = join(dir, 'nri.sock');
  const sockets: Socket[] = [];
  let connections = 0;
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    const bad = garbage[connections++];
    if (bad) s.write(bad.bytes);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  const stub = new NriStub(
    { synchronize: () => Promise.resolve(), runPodSandbox: () => Promise.resolve(), stopPodSandbox: () => Promise.resolve(), removePodSandbox: () => Promise.resolve() },
    { socketPath, pluginName: 'fleetboard', pluginIndex: '10', reconnectInitialMs: 20, reconnectMaxMs: 50, log },
  );
  t.after(async () => {
    await stub.stop();
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  stub.start();
  await waitFor(() => Promise.resolve(connections > garbage.length ? true : undefined), { what: 'the plugin to reconnect after every malformed input', timeoutMs: 10_000 });
  const text = lines.join('');
  for (const bad of garbage) assert.match(text, bad.logged, `no log line explains ${bad.what}`);
});
