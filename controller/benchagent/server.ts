import { createServer, type Server, type Socket } from 'node:net';
import { LATENCY, PING_SIZE, THROUGHPUT } from './protocol.js';

/** Serves LATENCY echoes and THROUGHPUT sinks until closed. */
export function benchServer(): Server {
  return createServer((socket: Socket) => {
    socket.setNoDelay(true);
    let mode: number | undefined;
    let received = 0;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (mode === undefined) {
        mode = data[0];
        data = data.subarray(1);
        if (mode !== LATENCY && mode !== THROUGHPUT) {
          socket.destroy();
          return;
        }
      }
      if (mode === THROUGHPUT) {
        received += data.length;
        return;
      }
      // Echo whole pings only, so the client reads each one back in one piece of PING_SIZE.
      pending = Buffer.concat([pending, data]);
      const whole = pending.length - (pending.length % PING_SIZE);
      if (whole > 0) {
        socket.write(pending.subarray(0, whole));
        pending = pending.subarray(whole);
      }
    });
    socket.on('end', () => {
      if (mode !== THROUGHPUT) {
        socket.end();
        return;
      }
      const count = Buffer.alloc(8);
      count.writeBigUInt64BE(BigInt(received));
      socket.end(count);
    });
    socket.on('error', () => socket.destroy());
  });
}
