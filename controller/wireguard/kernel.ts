import type { Logger } from 'pino';
import { NetnsError } from '../../plugin/netns/errors.js';
import { execIn, type NetnsTarget } from '../../plugin/netns/exec.js';
import { ipAddIfAbsent, ipDeleteIfPresent } from '../../plugin/netns/ip.js';
import type { DeviceConfig, DeviceStatus, WireGuardDevice } from './device.js';
import { WireGuardError, type WireGuardErrorCode } from './errors.js';
import { checkInterfaceName } from './validate.js';
import { renderWgConfig } from './wgConfig.js';
import { parseWgDump } from './wgDump.js';

export interface KernelWireGuardOptions {
  /** Network namespace path to create the interface in; undefined = ours (the cnf netns). */
  netns?: string | undefined;
  log: Logger;
}

/** How iproute2 reports a kernel without the wireguard link type (extack message, or the errno of older kernels). */
const NO_WIREGUARD = /Unknown device type|Operation not supported/;

/**
 * `wg syncconf` only reads a file by name. Node hands a child a socket as
 * stdin, which /dev/stdin cannot be opened on, so `cat` turns it into a pipe:
 * the private key stays off command lines and disks.
 */
const SYNCCONF_FROM_STDIN = 'cat | wg syncconf "$1" /dev/stdin';

/**
 * A WireGuard interface of the kernel, configured with the `wg` tool of
 * wireguard-tools. An existing link of that name is adopted, so a controller
 * restart keeps tunnels and sessions up; `wg` itself configures whatever
 * WireGuard runs that interface (it talks to userspace implementations over
 * their UAPI socket), which is how its configuration path is tested where the
 * kernel has no WireGuard.
 */
export class KernelWireGuardDevice implements WireGuardDevice {
  private readonly target: NetnsTarget;
  private closed = false;
  private created = 0;

  get generation(): number {
    return this.created;
  }

  constructor(
    readonly name: string,
    private readonly opts: KernelWireGuardOptions,
  ) {
    checkInterfaceName(name);
    this.target = { netns: opts.netns };
  }

  /**
   * Creates the link unless one of this name exists (a link deleted by hand
   * comes back on the next apply); KERNEL_UNSUPPORTED when the kernel has no
   * WireGuard.
   */
  async ensureLink(): Promise<void> {
    if (this.closed) throw new WireGuardError('UNAVAILABLE', `${this.name} is closed`);
    let created: boolean;
    try {
      created = await ipAddIfAbsent(this.target, ['link', 'add', this.name, 'type', 'wireguard']);
    } catch (err) {
      if (err instanceof NetnsError && err.code === 'COMMAND_FAILED' && NO_WIREGUARD.test(err.message)) {
        throw new WireGuardError('KERNEL_UNSUPPORTED', `the kernel has no WireGuard (${err.message}): load the wireguard module, or use --wireguard-backend=auto or wireguard-go`, { cause: err });
      }
      throw err;
    }
    if (!created) return;
    this.created += 1;
    this.opts.log.info({ iface: this.name }, 'created kernel WireGuard link');
  }

  /** `wg syncconf` changes only what differs (and removes peers not in the file), so live sessions survive. */
  async apply(config: DeviceConfig): Promise<void> {
    // Rendering checks the whole config before anything is touched; the private key travels on stdin only.
    const file = renderWgConfig(config);
    await this.ensureLink();
    await this.run('REFUSED', 'sh', ['-c', SYNCCONF_FROM_STDIN, 'sh', this.name], file);
  }

  async status(): Promise<DeviceStatus> {
    return parseWgDump(await this.run('UNAVAILABLE', 'wg', ['show', this.name, 'dump']));
  }

  /** Deletes the link, and the tunnels with it. */
  onDied(): void {
    // The kernel's interface has no process of its own that could die.
  }

  async close(): Promise<void> {
    this.closed = true;
    await ipDeleteIfPresent(this.target, ['link', 'del', this.name]);
  }

  /** Runs a command in the device's namespace; a failure is a WireGuardError with wg's own words. */
  private async run(code: WireGuardErrorCode, file: string, args: string[], input?: string): Promise<string> {
    try {
      return await execIn(this.target, file, args, input);
    } catch (err) {
      throw new WireGuardError(code, (err as Error).message, { cause: err });
    }
  }
}
