// Exact-length reads over a stream of chunks, so binary formats can be parsed while they stream in
// (a file of hundreds of MB never has to sit in memory twice).

export class UnexpectedEndError extends Error {}

export class ByteSource {
  private chunks: Buffer[] = [];
  private available = 0;
  private ended = false;
  /** Bytes handed out so far. */
  position = 0;

  constructor(private readonly input: AsyncIterator<Buffer | Uint8Array>) {}

  static from(iterable: AsyncIterable<Buffer | Uint8Array>): ByteSource {
    return new ByteSource(iterable[Symbol.asyncIterator]());
  }

  private async fill(n: number): Promise<void> {
    while (this.available < n && !this.ended) {
      const r = await this.input.next();
      if (r.done) {
        this.ended = true;
      } else if (r.value.length > 0) {
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        this.chunks.push(b);
        this.available += b.length;
      }
    }
  }

  async atEnd(): Promise<boolean> {
    await this.fill(1);
    return this.available === 0;
  }

  /** Hands the next chunk of at most `max` bytes; throws UnexpectedEndError when the input is over. */
  private async take(max: number): Promise<Buffer> {
    await this.fill(1);
    if (this.available === 0) throw new UnexpectedEndError('unexpected end of data');
    const head = this.chunks[0];
    const n = Math.min(max, head.length);
    const out = head.subarray(0, n);
    if (n === head.length) this.chunks.shift();
    else this.chunks[0] = head.subarray(n);
    this.available -= n;
    this.position += n;
    return out;
  }

  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    if (this.available < n) throw new UnexpectedEndError(`unexpected end of data (needed ${n} bytes, ${this.available} left)`);
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const part = await this.take(need);
      parts.push(part);
      need -= part.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  async readInto(dst: Uint8Array, offset: number, n: number): Promise<void> {
    let done = 0;
    while (done < n) {
      const part = await this.take(n - done);
      dst.set(part, offset + done);
      done += part.length;
    }
  }

  async skip(n: number): Promise<void> {
    let done = 0;
    while (done < n) done += (await this.take(n - done)).length;
  }

  /** The next n bytes as a stream of chunks; it must be consumed before this source is read again. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let done = 0;
    while (done < n) {
      const part = await this.take(n - done);
      done += part.length;
      yield part;
    }
  }

  /** Reads and discards everything left. */
  async drain(): Promise<void> {
    while (!(await this.atEnd())) await this.take(Infinity);
  }
}
