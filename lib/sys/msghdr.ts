/**
 * recvmsg() plumbing: a reusable struct msghdr whose iovec, name and control
 * buffers are allocated once (ArrayBuffer-backed, so their addresses stay
 * fixed), and a pure parser for the ancillary data (cmsghdr chain).
 *
 *   cmsghdr:  | cmsg_len (size_t Linux / socklen_t BSD) | level | type | pad | data … | pad |
 *              ^ CMSG_ALIGN(header) is where data starts; the next header is at
 *                CMSG_ALIGN(cmsg_len) from this one.
 */
import { SysError } from "./errors.ts";
import { addressOf, errno, libc } from "./libc.ts";
import { platform, requireConstant, requireStruct } from "./platform/mod.ts";
import type { Platform } from "./platform/mod.ts";
import { HOST_LITTLE_ENDIAN } from "./sockaddr.ts";
import { isErrno } from "./syscalls.ts";

export interface ControlMessage {
  readonly level: number;
  readonly type: number;
  readonly data: Uint8Array;
}

function align(value: number, boundary: number): number {
  return (value + boundary - 1) & ~(boundary - 1);
}

function readLength(view: DataView, offset: number, bytes: 4 | 8): number {
  return bytes === 8
    ? Number(view.getBigUint64(offset, HOST_LITTLE_ENDIAN))
    : view.getUint32(offset, HOST_LITTLE_ENDIAN);
}

/** Splits `length` bytes of control data into messages; a malformed tail is ignored. */
export function parseControlMessages(
  control: Uint8Array,
  length: number,
  table: Platform = platform(),
): ControlMessage[] {
  const header = requireStruct("cmsghdr", table);
  const dataStart = align(header.size, table.cmsgAlign);
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const end = Math.min(length, control.length);
  const out: ControlMessage[] = [];
  for (let at = 0; at + header.size <= end;) {
    const cmsgLen = readLength(view, at + header.fields.cmsg_len, table.cmsgLenBytes);
    if (cmsgLen < header.size || at + cmsgLen > end) break;
    out.push({
      level: view.getInt32(at + header.fields.cmsg_level, HOST_LITTLE_ENDIAN),
      type: view.getInt32(at + header.fields.cmsg_type, HOST_LITTLE_ENDIAN),
      data: control.subarray(at + dataStart, at + cmsgLen),
    });
    at += align(cmsgLen, table.cmsgAlign);
  }
  return out;
}

/** Builds one control message (the inverse of parseControlMessages), for tests and sendmsg. */
export function encodeControlMessage(
  level: number,
  type: number,
  data: Uint8Array,
  table: Platform = platform(),
): Uint8Array {
  const header = requireStruct("cmsghdr", table);
  const dataStart = align(header.size, table.cmsgAlign);
  const out = new Uint8Array(align(dataStart + data.length, table.cmsgAlign));
  const view = new DataView(out.buffer);
  const length = dataStart + data.length;
  if (table.cmsgLenBytes === 8) {
    view.setBigUint64(header.fields.cmsg_len, BigInt(length), HOST_LITTLE_ENDIAN);
  } else {
    view.setUint32(header.fields.cmsg_len, length, HOST_LITTLE_ENDIAN);
  }
  view.setInt32(header.fields.cmsg_level, level, HOST_LITTLE_ENDIAN);
  view.setInt32(header.fields.cmsg_type, type, HOST_LITTLE_ENDIAN);
  out.set(data, dataStart);
  return out;
}

export interface ReceivedMessage {
  /** The datagram (a view into the receiver's buffer: copy it to keep it). */
  readonly data: Uint8Array;
  /** The sender's sockaddr, as much as the kernel filled in. */
  readonly name: Uint8Array;
  readonly control: ControlMessage[];
  /** msg_flags (MSG_TRUNC, MSG_CTRUNC …). */
  readonly flags: number;
}

/** One msghdr, reused for every recvmsg on one socket (single-threaded: JS thread only). */
export class MessageReceiver {
  readonly #data: Uint8Array<ArrayBuffer>;
  readonly #name: Uint8Array<ArrayBuffer>;
  readonly #control: Uint8Array<ArrayBuffer>;
  readonly #iovec: Uint8Array<ArrayBuffer>;
  readonly #msghdr: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  readonly #fields: Readonly<Record<string, number>>;
  readonly #table: Platform;
  // Per-call constants, looked up once: recvmsg runs once a packet.
  readonly #flags: number;
  readonly #controlLength: bigint;

  constructor(dataBytes = 65536, nameBytes = 128, controlBytes = 256) {
    this.#table = platform();
    this.#flags = requireConstant("MSG_DONTWAIT", this.#table);
    this.#controlLength = BigInt(controlBytes);
    this.#data = new Uint8Array(new ArrayBuffer(dataBytes));
    this.#name = new Uint8Array(new ArrayBuffer(nameBytes));
    this.#control = new Uint8Array(new ArrayBuffer(controlBytes));
    const iovec = requireStruct("iovec");
    this.#iovec = new Uint8Array(new ArrayBuffer(iovec.size));
    const iov = new DataView(this.#iovec.buffer);
    iov.setBigUint64(iovec.fields.iov_base, addressOf(this.#data), HOST_LITTLE_ENDIAN);
    iov.setBigUint64(iovec.fields.iov_len, BigInt(dataBytes), HOST_LITTLE_ENDIAN);
    const msghdr = requireStruct("msghdr");
    this.#fields = msghdr.fields;
    this.#msghdr = new Uint8Array(new ArrayBuffer(msghdr.size));
    this.#view = new DataView(this.#msghdr.buffer);
    const f = msghdr.fields;
    this.#view.setBigUint64(f.msg_name, addressOf(this.#name), HOST_LITTLE_ENDIAN);
    this.#view.setBigUint64(f.msg_iov, addressOf(this.#iovec), HOST_LITTLE_ENDIAN);
    this.#view.setBigUint64(f.msg_control, addressOf(this.#control), HOST_LITTLE_ENDIAN);
    // msg_iovlen is size_t on Linux, int on FreeBSD; both hold 1 in the low bytes.
    this.#view.setUint32(f.msg_iovlen, 1, HOST_LITTLE_ENDIAN);
  }

  /**
   * recvmsg(fd, MSG_DONTWAIT). Undefined when nothing is queued; EINTR is
   * retried; other errors throw a SysError naming `label`.
   */
  receive(fd: number, label: string): ReceivedMessage | undefined {
    const f = this.#fields;
    const flags = this.#flags;
    for (;;) {
      // The kernel shrinks these to what it wrote, so reset them every call.
      this.#view.setUint32(f.msg_namelen, this.#name.length, HOST_LITTLE_ENDIAN);
      this.#resetControlLength();
      this.#view.setInt32(f.msg_flags, 0, HOST_LITTLE_ENDIAN);
      const got = Number(libc().recvmsg(fd, this.#msghdr, flags));
      if (got < 0) {
        const code = errno();
        if (isErrno(code, "EINTR")) continue;
        if (isErrno(code, "EAGAIN")) return undefined;
        throw new SysError(`recvmsg(${label})`, code);
      }
      const nameLength = this.#view.getUint32(f.msg_namelen, HOST_LITTLE_ENDIAN);
      const controlLength = this.#readControlLength();
      return {
        data: this.#data.subarray(0, Math.min(got, this.#data.length)),
        name: this.#name.subarray(0, Math.min(nameLength, this.#name.length)),
        control: parseControlMessages(this.#control, controlLength, this.#table),
        flags: this.#view.getInt32(f.msg_flags, HOST_LITTLE_ENDIAN),
      };
    }
  }

  #resetControlLength(): void {
    const at = this.#fields.msg_controllen;
    if (this.#table.cmsgLenBytes === 8) {
      this.#view.setBigUint64(at, this.#controlLength, HOST_LITTLE_ENDIAN);
    } else {
      this.#view.setUint32(at, this.#control.length, HOST_LITTLE_ENDIAN);
    }
  }

  #readControlLength(): number {
    return readLength(this.#view, this.#fields.msg_controllen, this.#table.cmsgLenBytes);
  }
}
