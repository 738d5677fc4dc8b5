import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { RateLimitedLog } from './rateLimitedLog.js';

test('one line per kind per interval, then how many were held back', () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  let now = 0;
  const limited = new RateLimitedLog(log, 1000, () => now);
  for (let i = 0; i < 5; i++) limited.warn('bad-query', { i }, 'malformed DNS query');
  limited.warn('internal', {}, 'another kind');
  now = 1000;
  limited.warn('bad-query', { i: 5 }, 'malformed DNS query');
  assert.deepEqual(
    lines.map((l) => [l.msg, l.i, l.heldBack]),
    [
      ['malformed DNS query', 0, undefined],
      ['another kind', undefined, undefined],
      ['malformed DNS query', 5, 4],
    ],
  );
});
