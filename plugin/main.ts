import { pino } from 'pino';
import { NriStub } from './nri/stub.js';
import { PodWiring } from './podWiring.js';
import { ControllerClient } from './controllerClient.js';
import { OWN_NETNS } from './netns/podInterfaceIo.js';
import { parsePluginOptions } from './options.js';

/** The NRI plugin of the cnf pod: composition root. */
async function main(): Promise<void> {
  let opts;
  try {
    opts = parsePluginOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`fleetboard-plugin: ${(err as Error).message}`);
    process.exit(2);
  }
  const log = pino({ level: opts.logLevel, base: { component: 'plugin' } });
  const controller = new ControllerClient(opts.controllerSocket);
  const wiring = new PodWiring(controller, { ifName: opts.ifName, roleLabel: 'fleetboard.io/role', cnf: OWN_NETNS, log });
  const stub = new NriStub(wiring, { socketPath: opts.nriSocket, pluginName: 'fleetboard', pluginIndex: opts.pluginIndex, log });
  stub.start();
  log.info({ nriSocket: opts.nriSocket, index: opts.pluginIndex, interface: opts.ifName }, 'NRI plugin started');
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await stub.stop();
    wiring.stop();
    controller.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await stub.firstSync;
}

void main();
