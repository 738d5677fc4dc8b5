import { parseArgs } from 'node:util';

export interface PluginOptions {
  nriSocket: string;
  pluginIndex: string;
  controllerSocket: string;
  ifName: string;
  logLevel: string;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
/** Linux interface names: 1–15 characters, no slash, colon or whitespace. */
const IFNAME = /^[^/:\s]{1,15}$/;

/** Parses and validates the plugin's flags once, at start. */
export function parsePluginOptions(argv: string[]): PluginOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'nri-socket': { type: 'string', default: '/var/run/nri/nri.sock' },
      'plugin-index': { type: 'string', default: '10' },
      'controller-socket': { type: 'string', default: '/var/run/fleetboard/node.sock' },
      interface: { type: 'string', default: 'eth-fleet' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const opts: PluginOptions = {
    nriSocket: values['nri-socket'],
    pluginIndex: values['plugin-index'],
    controllerSocket: values['controller-socket'],
    ifName: values.interface,
    logLevel: values['log-level'],
  };
  if (!/^[0-9]{2}$/.test(opts.pluginIndex)) throw new OptionsError(`--plugin-index must be two digits, 00 to 99 (got "${opts.pluginIndex}")`);
  if (!IFNAME.test(opts.ifName) || opts.ifName === 'eth0' || opts.ifName === 'lo') {
    throw new OptionsError(`--interface "${opts.ifName}" is not usable: 1 to 15 characters, no "/", ":" or spaces, and not eth0 or lo`);
  }
  if (!LEVELS.includes(opts.logLevel)) throw new OptionsError(`--log-level must be one of ${LEVELS.join(', ')} (got "${opts.logLevel}")`);
  return opts;
}
