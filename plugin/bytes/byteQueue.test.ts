import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue } from './byteQueue.js';

test('peek and take cross chunk boundaries and keep the rest in order', () => {
  const q = new ByteQueue();
  q.push(Buffer.from('ab'));
  q.push(Buffer.alloc(0));
  q.push(Buffer.from('cde'));
  q.push(Buffer.from('f'));
  assert.equal(q.length, 6);
  assert.equal(q.peek(4).toString(), 'abcd');
  assert.equal(q.take(3).toString(), 'abc');
  assert.equal(q.length, 3);
  assert.equal(q.take(3).toString(), 'def');
  assert.equal(q.length, 0);
});

test('a taken buffer does not change when the queue is reused', () => {
  const q = new ByteQueue();
  const source = Buffer.from('xyz');
  q.push(source);
  const got = q.take(3);
  source.write('AAA');
  assert.equal(got.toString(), 'xyz');
});
