/**
 * Bytes received from a stream, kept as a list of chunks so that reassembling
 * a large message from many small reads costs one copy, not one per read.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Copies the first n bytes (n <= length) without consuming them. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = Buffer.alloc(n);
    let off = 0;
    for (const c of this.chunks) {
      if (off >= n) break;
      off += c.copy(out, off, 0, Math.min(c.length, n - off));
    }
    return out;
  }

  /** Removes and returns the first n bytes (n <= length) as one buffer of its own. */
  take(n: number): Buffer {
    const out = Buffer.alloc(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      if (!c) break;
      const part = Math.min(c.length, n - off);
      c.copy(out, off, 0, part);
      off += part;
      if (part === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(part);
    }
    this.size -= off;
    return out;
  }
}
