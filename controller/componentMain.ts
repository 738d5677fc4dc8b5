import { pino, type Logger } from 'pino';

/**
 * The process around a long-running FleetBoard component: parse flags (exit 2
 * with the reason), start (exit 1 when that fails), and stop cleanly on
 * SIGTERM/SIGINT. `component` names the logs; `command` the flag errors.
 */
export async function runComponent<O extends { logLevel: string; nodeName: string }>(
  command: string,
  component: string,
  parse: (argv: string[], env: NodeJS.ProcessEnv) => O,
  start: (opts: O, log: Logger) => Promise<() => Promise<void>>,
): Promise<void> {
  let opts: O;
  try {
    opts = parse(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`${command}: ${(err as Error).message}`);
    process.exit(2);
  }
  const log = pino({ level: opts.logLevel, base: { component, node: opts.nodeName } });
  let stop: () => Promise<void>;
  try {
    stop = await start(opts, log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, `${component} failed to start`);
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
