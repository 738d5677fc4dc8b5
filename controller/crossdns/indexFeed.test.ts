import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { IndexFeed } from './indexFeed.js';
import type { DnsIndex } from './zoneIndex.js';
import { indexInput, serviceImport } from './testFixtures.js';

test('each new input becomes a new index with a larger serial; a problem is logged once while it lasts', () => {
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const indexes: DnsIndex[] = [];
  const feed = new IndexFeed({ zones: ['clusterset.local'], customZones: [], reverseZones: [], nameserverAddresses: [], ttl: 5 }, { setIndex: (i) => indexes.push(i) }, log, () => 1_000_000);
  const named = serviceImport('default', 'nginx', { type: 'ClusterSetIP', ips: ['10.127.0.5'], ports: [] }, 'nginx.shared.example');
  feed.update(indexInput([named]));
  feed.update(indexInput([named]));
  feed.update(indexInput([]));
  feed.update(indexInput([named]));
  assert.deepEqual(
    indexes.map((i) => i.serial),
    [1000, 1001, 1002, 1003],
  );
  assert.equal(indexes[0]?.names.has('nginx.default.svc.clusterset.local'), true);
  assert.equal(indexes[2]?.names.has('nginx.default.svc.clusterset.local'), false);
  assert.equal(warnings.length, 2, 'logged, gone, back: logged again');
  assert.match(warnings[0] ?? '', /nginx.shared.example is not inside a custom zone/);
});
