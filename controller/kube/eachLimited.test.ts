import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachLimited } from './eachLimited.js';

test('every item is worked on, never more than the limit at once', async () => {
  let inFlight = 0;
  let most = 0;
  const done: number[] = [];
  await eachLimited([...Array(20).keys()], 4, async (i) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    await new Promise((r) => setImmediate(r));
    done.push(i);
    inFlight -= 1;
  });
  assert.equal(most, 4);
  assert.deepEqual(done.sort((a, b) => a - b), [...Array(20).keys()]);
});

test('a failure does not stop the other items, and is thrown at the end', async () => {
  const done: number[] = [];
  await assert.rejects(
    eachLimited([1, 2, 3, 4], 2, async (i) => {
      if (i === 2) throw new Error('item 2 failed');
      await Promise.resolve();
      done.push(i);
    }),
    /item 2 failed/,
  );
  assert.deepEqual(done.sort(), [1, 3, 4]);
});
