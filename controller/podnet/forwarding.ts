import { readFile, writeFile } from 'node:fs/promises';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** Pods' traffic crosses the cnf netns, which must route; the setting is per network namespace. */
export async function enableForwarding(): Promise<void> {
  if ((await readFile(IP_FORWARD, 'utf8')).trim() === '1') return;
  await writeFile(IP_FORWARD, '1\n');
}
