import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { Debouncer } from './debouncer.js';

const log = pino({ level: 'silent' });

test('a burst of changes is worked on once, after it settles', async () => {
  let runs = 0;
  const d = new Debouncer(() => Promise.resolve(void (runs += 1)), log, 'test', 30);
  for (let i = 0; i < 10; i++) d.schedule();
  await delay(150);
  assert.equal(runs, 1);
  await d.stop();
});

test('a steady stream of changes does not hold the work off: it runs within about a second of the first', async () => {
  let firstRunAt: number | undefined;
  const started = Date.now();
  const d = new Debouncer(() => Promise.resolve(void (firstRunAt ??= Date.now())), log, 'test', 200);
  // A change every 20 ms, for longer than the longest wait.
  while (Date.now() - started < 1600) {
    d.schedule();
    await delay(20);
  }
  await d.stop();
  assert.ok(firstRunAt !== undefined, 'the work ran while changes kept coming');
  assert.ok(firstRunAt - started < 1400, `first run after ${firstRunAt - started} ms`);
});
