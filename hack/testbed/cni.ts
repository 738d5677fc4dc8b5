import { spawn } from 'node:child_process';
import { HarnessError } from '../../test/harness/errors.js';
import type { CniType } from './plan.js';

export const CNI_BIN_DIR = '/usr/lib/cni';

/** The pod's primary network: a reference CNI plugin with host-local IPAM over the node's pod CIDR. */
export function cniConfig(type: CniType, nodePodCidr: string, ipamDataDir: string): Record<string, unknown> {
  const ipam = {
    type: 'host-local',
    ranges: [[{ subnet: nodePodCidr }]],
    routes: [{ dst: '0.0.0.0/0' }],
    dataDir: ipamDataDir,
  };
  const base = { cniVersion: '1.0.0', name: 'testbed', ipMasq: false, mtu: 1500, ipam };
  return type === 'ptp'
    ? { ...base, type: 'ptp' }
    : { ...base, type: 'bridge', bridge: 'cni0', isGateway: true, hairpinMode: true };
}

interface CniResult {
  ips?: { address: string }[];
}

/** Runs a CNI plugin in the node's namespace for one pod; returns the plugin's parsed result. */
async function invoke(
  command: 'ADD' | 'DEL',
  nodeNetns: string,
  config: Record<string, unknown>,
  containerId: string,
  podNetnsPath: string,
): Promise<CniResult> {
  const type = String(config.type);
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: podNetnsPath,
    CNI_IFNAME: 'eth0',
    CNI_PATH: CNI_BIN_DIR,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', nodeNetns, `${CNI_BIN_DIR}/${type}`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        resolve(out.trim() ? (JSON.parse(out) as CniResult) : {});
        return;
      }
      let msg = err.trim() || out.trim();
      try {
        msg = (JSON.parse(out) as { msg?: string }).msg ?? msg;
      } catch {
        // plugin printed no JSON error: keep raw output
      }
      reject(new HarnessError('COMMAND_FAILED', `CNI ${type} ${command} for ${containerId} failed: ${msg}`));
    });
    child.stdin.end(JSON.stringify(config));
  });
}

/** Sets up the pod's eth0 and returns its IPv4 address. */
export async function cniAdd(nodeNetns: string, config: Record<string, unknown>, containerId: string, podNetnsPath: string) {
  const result = await invoke('ADD', nodeNetns, config, containerId, podNetnsPath);
  const address = result.ips?.[0]?.address;
  if (!address) throw new HarnessError('COMMAND_FAILED', `CNI ${String(config.type)} returned no IP for ${containerId}`);
  return address.split('/')[0] ?? address;
}

export async function cniDel(nodeNetns: string, config: Record<string, unknown>, containerId: string, podNetnsPath: string) {
  await invoke('DEL', nodeNetns, config, containerId, podNetnsPath);
}
