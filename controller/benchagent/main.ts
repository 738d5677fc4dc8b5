import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runClient } from './client.js';
import { DEFAULT_PORT } from './protocol.js';
import { benchServer } from './server.js';

const USAGE = `usage: fleetboard-bench server [--port 5201]
       fleetboard-bench client --target <ip> [--port 5201] [--seconds 5] [--pings 200] [--result-file /dev/termination-log]`;

/**
 * fleetboard-bench: the pods `fleetctl benchmark` runs. The client writes its
 * result as JSON to the pod's termination message, where fleetctl reads it.
 */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string', default: String(DEFAULT_PORT) }, target: { type: 'string' }, seconds: { type: 'string', default: '5' }, pings: { type: 'string', default: '200' }, 'result-file': { type: 'string', default: '/dev/termination-log' } },
  });
  const port = Number(values.port);
  if (positionals[0] === 'server') {
    const server = benchServer();
    server.listen(port);
    await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
    server.close();
    return 0;
  }
  if (positionals[0] === 'client' && values.target) {
    const result = await runClient(values.target, port, Number(values.seconds), Number(values.pings));
    const json = JSON.stringify(result);
    await writeFile(values['result-file'], json);
    process.stdout.write(`${json}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`fleetboard-bench: ${message}\n`);
    process.exit(1);
  },
);
