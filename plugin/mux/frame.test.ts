import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrames, FrameReader, MAX_RECEIVE_PAYLOAD, MAX_SEND_FRAME, MUX_HEADER_LENGTH } from './frame.js';
import { MuxError } from './errors.js';

test('a large write is split into frames of at most 4096 bytes that reassemble to the same bytes', () => {
  const payload = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  const frames = encodeFrames(2, payload);
  assert.equal(frames.length, 3);
  for (const f of frames) {
    assert.ok(f.length <= MAX_SEND_FRAME);
    assert.equal(f.readUInt32BE(0), 2);
    assert.equal(f.readUInt32BE(4), f.length - MUX_HEADER_LENGTH);
  }
  const reader = new FrameReader();
  const got = reader.push(Buffer.concat(frames));
  assert.deepEqual(Buffer.concat(got.map((f) => f.payload)), payload);
});

test('frames split and joined at every byte boundary are decoded the same', () => {
  const stream = Buffer.concat([...encodeFrames(1, Buffer.from('hello')), ...encodeFrames(2, Buffer.from('world!'))]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new FrameReader();
    const frames = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
    assert.deepEqual(
      frames.map((f) => [f.connId, f.payload.toString()]),
      [
        [1, 'hello'],
        [2, 'world!'],
      ],
    );
  }
});

test('an empty write still sends one frame', () => {
  const frames = encodeFrames(1, Buffer.alloc(0));
  assert.equal(frames.length, 1);
  assert.deepEqual(new FrameReader().push(frames[0] ?? Buffer.alloc(0)), [{ connId: 1, payload: Buffer.alloc(0) }]);
});

test('a frame claiming more than any runtime sends is refused before it is buffered', () => {
  const header = Buffer.alloc(MUX_HEADER_LENGTH);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(MAX_RECEIVE_PAYLOAD + 1, 4);
  assert.throws(
    () => new FrameReader().push(header),
    (err: unknown) => err instanceof MuxError && err.code === 'FRAME_TOO_LARGE',
  );
});
