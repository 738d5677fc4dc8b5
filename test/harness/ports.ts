import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { HarnessError } from './errors.js';

/** Ports handed out by this process, never handed out twice. */
const handedOut = new Set<number>();
const LOWEST = 10_000;

/**
 * Where the kernel's ephemeral ports begin: a port below it is never taken by
 * an outgoing connection (etcd's, the apiserver's, a test's) between our
 * check and the server's bind, which a port the kernel picked could be.
 */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on the host's loopback that is free, outside the ephemeral range, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  const end = ephemeralStart();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (end - LOWEST));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new HarnessError('TIMEOUT', `no free TCP port found between ${LOWEST} and ${end} on 127.0.0.1`);
}
