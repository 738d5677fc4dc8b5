import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { LATENCY, PING_SIZE, quantile, THROUGHPUT, type BenchResult } from './protocol.js';

const CHUNK = Buffer.alloc(256 * 1024, 0x5a);

async function open(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const socket = connect({ host, port, noDelay: true });
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no progress with ${host}:${port} for ${timeoutMs / 1000} s`)));
  await once(socket, 'connect');
  return socket;
}

/** Round trips of PING_SIZE bytes, one at a time; milliseconds, sorted. */
async function pings(host: string, port: number, count: number): Promise<number[]> {
  const socket = await open(host, port, 10_000);
  socket.write(Buffer.from([LATENCY]));
  const rtts: number[] = [];
  let buffered = 0;
  let sentAt = 0;
  let resolveOne: (() => void) | undefined;
  let rejectOne: ((err: Error) => void) | undefined;
  socket.on('error', (err) => rejectOne?.(err));
  socket.on('close', () => rejectOne?.(new Error('the server closed the connection during the pings')));
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.length;
    if (buffered >= PING_SIZE) {
      buffered -= PING_SIZE;
      rtts.push(Number(process.hrtime.bigint() - BigInt(sentAt)) / 1e6);
      resolveOne?.();
    }
  });
  const ping = Buffer.alloc(PING_SIZE, 0x70);
  for (let i = 0; i < count; i += 1) {
    const answered = new Promise<void>((resolve, reject) => {
      resolveOne = resolve;
      rejectOne = reject;
    });
    sentAt = Number(process.hrtime.bigint());
    socket.write(ping);
    await answered;
  }
  rejectOne = undefined;
  socket.end();
  return rtts.sort((a, b) => a - b);
}

/** Sends for `seconds`; the rate is what the server says it received over the time until it said so. */
async function transfer(host: string, port: number, seconds: number): Promise<{ bitsPerSecond: number; seconds: number }> {
  const socket = await open(host, port, 30_000);
  const started = process.hrtime.bigint();
  const until = started + BigInt(Math.round(seconds * 1e9));
  socket.write(Buffer.from([THROUGHPUT]));
  while (process.hrtime.bigint() < until) {
    if (!socket.write(CHUNK)) await once(socket, 'drain');
  }
  const answer: Buffer[] = [];
  socket.on('data', (c: Buffer) => answer.push(c));
  socket.end();
  await once(socket, 'close');
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const count = Buffer.concat(answer);
  if (count.length !== 8) throw new Error('the server did not report the bytes it received');
  return { bitsPerSecond: (Number(count.readBigUInt64BE()) * 8) / elapsed, seconds: elapsed };
}

export async function runClient(target: string, port: number, seconds: number, pingCount: number): Promise<BenchResult> {
  const rtts = await pings(target, port, pingCount);
  const t = await transfer(target, port, seconds);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { target, bitsPerSecond: Math.round(t.bitsPerSecond), seconds: round(t.seconds), rttMs: { min: round(rtts[0] ?? NaN), p50: round(quantile(rtts, 0.5)), p99: round(quantile(rtts, 0.99)) }, pings: rtts.length };
}
