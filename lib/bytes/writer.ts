/**
 * Big-endian cursor that writes into a caller's buffer (or a new one), so
 * encoders can fill a packet in place without intermediate arrays.
 */
export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset: number;

  constructor(bytesOrLength: Uint8Array | number, offset = 0) {
    this.bytes = typeof bytesOrLength === "number" ? new Uint8Array(bytesOrLength) : bytesOrLength;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.offset = offset;
  }

  private room(count: number): void {
    if (this.offset + count > this.bytes.length) {
      throw new RangeError(
        `ByteWriter: ${count} bytes at ${this.offset} overflow a ${this.bytes.length}-byte buffer`,
      );
    }
  }

  u8(value: number): this {
    this.room(1);
    this.view.setUint8(this.offset++, value);
    return this;
  }

  u16(value: number, littleEndian = false): this {
    this.room(2);
    this.view.setUint16(this.offset, value, littleEndian);
    this.offset += 2;
    return this;
  }

  u32(value: number, littleEndian = false): this {
    this.room(4);
    this.view.setUint32(this.offset, value >>> 0, littleEndian);
    this.offset += 4;
    return this;
  }

  i32(value: number, littleEndian = false): this {
    this.room(4);
    this.view.setInt32(this.offset, value, littleEndian);
    this.offset += 4;
    return this;
  }

  u64(value: bigint, littleEndian = false): this {
    this.room(8);
    this.view.setBigUint64(this.offset, value, littleEndian);
    this.offset += 8;
    return this;
  }

  put(source: Uint8Array): this {
    this.room(source.length);
    this.bytes.set(source, this.offset);
    this.offset += source.length;
    return this;
  }

  zeros(count: number): this {
    this.room(count);
    this.bytes.fill(0, this.offset, this.offset + count);
    this.offset += count;
    return this;
  }

  /** The bytes written so far. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}
