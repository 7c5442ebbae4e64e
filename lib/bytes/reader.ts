import { DecodeError } from "./errors.ts";

/**
 * Bounds-checked big-endian cursor over one view. Every read past the end
 * throws a DecodeError with the counter name given at construction, so a
 * truncated packet is reported as e.g. `badlen`, never as a RangeError.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset: number;
  readonly end: number;
  readonly shortReason: string;

  constructor(bytes: Uint8Array, shortReason = "badlen", offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.end = end;
    this.shortReason = shortReason;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  need(count: number): void {
    if (count < 0 || this.offset + count > this.end) {
      throw new DecodeError(
        this.shortReason,
        `need ${count} bytes, ${this.remaining} left`,
        this.offset,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(littleEndian = false): number {
    this.need(2);
    const value = this.view.getUint16(this.offset, littleEndian);
    this.offset += 2;
    return value;
  }

  u32(littleEndian = false): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, littleEndian);
    this.offset += 4;
    return value;
  }

  i32(littleEndian = false): number {
    this.need(4);
    const value = this.view.getInt32(this.offset, littleEndian);
    this.offset += 4;
    return value;
  }

  u64(littleEndian = false): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.offset, littleEndian);
    this.offset += 8;
    return value;
  }

  /** A sub-array that shares memory with the input (no copy). */
  take(count: number): Uint8Array {
    this.need(count);
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  skip(count: number): void {
    this.need(count);
    this.offset += count;
  }
}
