import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, HEADER_LENGTH, MAX_DATA_LENGTH, MessageReader, MessageType } from './frame.js';
import { TtrpcError } from './errors.js';

const message = (streamId: number, text: string) => ({ streamId, type: MessageType.Request, flags: 0, data: Buffer.from(text) });

test('messages round-trip whatever the read boundaries', () => {
  const stream = Buffer.concat([encodeMessage(message(1, 'first')), encodeMessage(message(3, '')), encodeMessage(message(5, 'third'))]);
  for (let chunk = 1; chunk <= stream.length; chunk++) {
    const reader = new MessageReader();
    const got = [];
    for (let off = 0; off < stream.length; off += chunk) got.push(...reader.push(stream.subarray(off, off + chunk)));
    assert.deepEqual(
      got.map((m) => [m.streamId, m.type, m.data.toString()]),
      [
        [1, 1, 'first'],
        [3, 1, ''],
        [5, 1, 'third'],
      ],
    );
  }
});

test('the header is length, stream id, type and flags, big-endian', () => {
  const b = encodeMessage({ streamId: 0x01020304, type: MessageType.Response, flags: 0x05, data: Buffer.from('ab') });
  assert.deepEqual([...b.subarray(0, HEADER_LENGTH)], [0, 0, 0, 2, 1, 2, 3, 4, 2, 5]);
});

test('a message over 4 MiB is refused on both sides', () => {
  assert.throws(() => encodeMessage({ streamId: 1, type: 1, flags: 0, data: Buffer.alloc(MAX_DATA_LENGTH + 1) }), /exceeds/);
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt32BE(MAX_DATA_LENGTH + 1, 0);
  header.writeUInt8(1, 8);
  assert.throws(
    () => new MessageReader().push(header),
    (err: unknown) => err instanceof TtrpcError && err.code === 'FRAME_TOO_LARGE' && err.fatal,
  );
});

test('an unknown message type is a malformed stream', () => {
  const b = encodeMessage(message(1, 'x'));
  b.writeUInt8(9, 8);
  assert.throws(
    () => new MessageReader().push(b),
    (err: unknown) => err instanceof TtrpcError && err.code === 'MALFORMED',
  );
});
