/**
 * Classic libpcap capture files (what `tcpdump -w` writes), read and written
 * as pure functions over bytes. Both byte orders are accepted (the writer's
 * order is whatever its CPU used), with microsecond or nanosecond timestamps.
 *
 * File header (`struct pcap_file_header`, 24 bytes):
 *
 *    0               4       6       8               12              16              20              24
 *    +---------------+-------+-------+---------------+---------------+---------------+---------------+
 *    | magic         | major | minor | thiszone      | sigfigs       | snaplen       | linktype      |
 *    +---------------+-------+-------+---------------+---------------+---------------+---------------+
 *
 * Record header (`struct pcap_sf_pkthdr`, 16 bytes), then `capturedLength` bytes:
 *
 *    0               4               8               12              16
 *    +---------------+---------------+---------------+---------------+----------
 *    | ts seconds    | ts µs or ns   | captured len  | original len  | data …
 *    +---------------+---------------+---------------+---------------+----------
 *
 * Magic 0xa1b2c3d4 = microseconds, 0xa1b23c4d = nanoseconds; read in the
 * other byte order they say the file is byte-swapped relative to big-endian.
 */
import { ByteReader } from "../bytes/reader.ts";
import { DecodeError } from "../bytes/errors.ts";

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;

export const PCAP_FILE_OFFSET = {
  magic: 0,
  versionMajor: 4,
  versionMinor: 6,
  thiszone: 8,
  sigfigs: 12,
  snaplen: 16,
  linktype: 20,
} as const;

export const PCAP_RECORD_OFFSET = {
  seconds: 0,
  fraction: 4,
  capturedLength: 8,
  originalLength: 12,
} as const;

/** A record longer than this is a corrupt length field, not a packet (libpcap's own bound). */
export const PCAP_MAX_RECORD = 262_144;

export type PcapResolution = "us" | "ns";

export interface PcapFileHeader {
  readonly littleEndian: boolean;
  readonly resolution: PcapResolution;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly thiszone: number;
  readonly sigfigs: number;
  readonly snaplen: number;
  /** LINKTYPE_* value (the low 16 bits of the field; the rest holds FCS flags). */
  readonly linktype: number;
}

export interface PcapRecord {
  /** 1-based position in the file, as tcpdump and wireshark number frames. */
  readonly index: number;
  readonly seconds: number;
  /** Nanoseconds within the second, whatever the file's resolution. */
  readonly nanos: number;
  readonly originalLength: number;
  /** The captured bytes (a view into the file's buffer). */
  readonly data: Uint8Array;
}

export interface PcapFile {
  readonly header: PcapFileHeader;
  readonly records: readonly PcapRecord[];
  /**
   * Set when the file ends inside a record (a capture cut off by a full
   * disk or a killed tcpdump): the records before it are still returned.
   */
  readonly truncated?: DecodeError;
}

/** Decodes the 24-byte file header. Errors: "badlen", "badmagic", "badver". */
export function decodePcapFileHeader(bytes: Uint8Array): PcapFileHeader {
  const r = new ByteReader(bytes, "badlen");
  r.need(PCAP_FILE_HEADER_LENGTH);
  const big = r.view.getUint32(0, false);
  const little = r.view.getUint32(0, true);
  let littleEndian: boolean;
  let resolution: PcapResolution;
  if (big === PCAP_MAGIC_MICRO || big === PCAP_MAGIC_NANO) {
    littleEndian = false;
    resolution = big === PCAP_MAGIC_NANO ? "ns" : "us";
  } else if (little === PCAP_MAGIC_MICRO || little === PCAP_MAGIC_NANO) {
    littleEndian = true;
    resolution = little === PCAP_MAGIC_NANO ? "ns" : "us";
  } else {
    const hint = big === 0x0a0d0d0a ? " (a pcapng file: convert it with `editcap -F pcap`)" : "";
    throw new DecodeError(
      "badmagic",
      `not a pcap file: magic 0x${big.toString(16).padStart(8, "0")}${hint}`,
      0,
    );
  }
  r.skip(4);
  const versionMajor = r.u16(littleEndian);
  const versionMinor = r.u16(littleEndian);
  if (versionMajor !== PCAP_VERSION_MAJOR) {
    throw new DecodeError(
      "badver",
      `pcap version ${versionMajor}.${versionMinor}, expected 2.x`,
      4,
    );
  }
  return {
    littleEndian,
    resolution,
    versionMajor,
    versionMinor,
    thiszone: r.i32(littleEndian),
    sigfigs: r.u32(littleEndian),
    snaplen: r.u32(littleEndian),
    linktype: r.u32(littleEndian) & 0xffff,
  };
}

/** Decodes a whole file held in memory. */
export function decodePcap(bytes: Uint8Array): PcapFile {
  const header = decodePcapFileHeader(bytes);
  const records: PcapRecord[] = [];
  const le = header.littleEndian;
  const r = new ByteReader(bytes, "badlen", PCAP_FILE_HEADER_LENGTH);
  let truncated: DecodeError | undefined;
  try {
    while (r.remaining > 0) {
      const at = r.offset;
      r.need(PCAP_RECORD_HEADER_LENGTH);
      const seconds = r.u32(le);
      const fraction = r.u32(le);
      const capturedLength = r.u32(le);
      const originalLength = r.u32(le);
      if (capturedLength > PCAP_MAX_RECORD) {
        throw new DecodeError(
          "badlen",
          `record ${records.length + 1} claims ${capturedLength} bytes`,
          at + PCAP_RECORD_OFFSET.capturedLength,
        );
      }
      const nanos = header.resolution === "ns" ? fraction : fraction * 1000;
      if (nanos >= 1e9) {
        throw new DecodeError(
          "badval",
          `record ${records.length + 1}: sub-second field ${fraction} out of range`,
          at + PCAP_RECORD_OFFSET.fraction,
        );
      }
      const data = r.take(capturedLength);
      records.push({ index: records.length + 1, seconds, nanos, originalLength, data });
    }
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    truncated = error;
  }
  return truncated ? { header, records, truncated } : { header, records };
}

export interface PcapWriteOptions {
  readonly linktype: number;
  readonly littleEndian?: boolean;
  readonly resolution?: PcapResolution;
  readonly snaplen?: number;
}

export interface PcapWriteRecord {
  readonly seconds: number;
  readonly nanos?: number;
  readonly data: Uint8Array;
  /** Defaults to data.length. */
  readonly originalLength?: number;
}

/** Encodes a capture file (for fixtures and tests; `tcpdump -r` reads it back). */
export function encodePcap(
  options: PcapWriteOptions,
  records: readonly PcapWriteRecord[],
): Uint8Array {
  const le = options.littleEndian ?? true;
  const ns = (options.resolution ?? "us") === "ns";
  const length = PCAP_FILE_HEADER_LENGTH +
    records.reduce((n, rec) => n + PCAP_RECORD_HEADER_LENGTH + rec.data.length, 0);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, ns ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
  view.setUint16(4, PCAP_VERSION_MAJOR, le);
  view.setUint16(6, PCAP_VERSION_MINOR, le);
  view.setInt32(8, 0, le);
  view.setUint32(12, 0, le);
  view.setUint32(16, options.snaplen ?? 262_144, le);
  view.setUint32(20, options.linktype, le);
  let offset = PCAP_FILE_HEADER_LENGTH;
  for (const rec of records) {
    const nanos = rec.nanos ?? 0;
    view.setUint32(offset, rec.seconds, le);
    view.setUint32(offset + 4, ns ? nanos : Math.floor(nanos / 1000), le);
    view.setUint32(offset + 8, rec.data.length, le);
    view.setUint32(offset + 12, rec.originalLength ?? rec.data.length, le);
    out.set(rec.data, offset + PCAP_RECORD_HEADER_LENGTH);
    offset += PCAP_RECORD_HEADER_LENGTH + rec.data.length;
  }
  return out;
}
