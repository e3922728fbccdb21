// A minimal protocol-buffers writer: just the wire types the ONNX messages need (varints,
// little-endian 32-bit floats, length-delimited bytes, strings and sub-messages).
export class ProtoWriter {
  private chunks: Buffer[] = [];
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length) {
      this.chunks.push(Buffer.from(this.scratch));
      this.scratch = [];
    }
  }

  private varint(value: number | bigint): void {
    // Negative int64 values are ten bytes of two's complement, as protobuf encodes them.
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.scratch.push(byte);
    } while (v !== 0n);
  }

  private key(field: number, wireType: 0 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.scratch.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, 2);
    this.varint(data.byteLength);
    this.flushScratch();
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: Array<number | bigint>): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: number[]): this {
    return this.bytes(field, Buffer.from(Float32Array.from(values).buffer));
  }

  finish(): Buffer {
    this.flushScratch();
    return Buffer.concat(this.chunks);
  }
}
