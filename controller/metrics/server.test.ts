import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { controllerMetrics, type PoolUsage } from './controllerMetrics.js';
import { MetricsServer } from './server.js';

test('metrics report the pool and leadership as they are at scrape time; readyz waits for the node CIDR', async (t) => {
  const now: { pool?: PoolUsage; leading: boolean } = { leading: false };
  const server = new MetricsServer(
    { host: '127.0.0.1', port: 0 },
    controllerMetrics({ pool: () => now.pool, leading: () => now.leading, tunnels: () => Promise.resolve([]), tunnelReadFailed: () => undefined, exports: () => [], imports: () => 0 }).registry,
    () => (now.pool ? undefined : 'no node CIDR yet'),
    pino({ level: 'silent' }),
  );
  const port = await server.start();
  t.after(() => server.stop());
  const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);

  assert.equal((await get('/healthz')).status, 200);
  const notReady = await get('/readyz');
  assert.equal(notReady.status, 503);
  assert.match(await notReady.text(), /no node CIDR yet/);
  let text = await (await get('/metrics')).text();
  assert.doesNotMatch(text, /^fleetboard_ipam_addresses_in_use\{/m);
  assert.match(text, /^fleetboard_leader 0$/m);

  now.pool = { cidr: '10.113.1.0/24', used: 7, capacity: 252 };
  now.leading = true;
  assert.equal((await get('/readyz')).status, 200);
  text = await (await get('/metrics')).text();
  assert.match(text, /^fleetboard_ipam_addresses_in_use\{node_cidr="10.113.1.0\/24"\} 7$/m);
  assert.match(text, /^fleetboard_ipam_addresses_capacity\{node_cidr="10.113.1.0\/24"\} 252$/m);
  assert.match(text, /^fleetboard_leader 1$/m);
  assert.match(text, /^fleetboard_controller_process_resident_memory_bytes \d+/m);
  assert.equal((await get('/nope')).status, 404);
});
