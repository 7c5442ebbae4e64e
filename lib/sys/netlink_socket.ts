/**
 * A non-blocking AF_NETLINK socket (rtnetlink, ctnetlink). It moves bytes
 * only: message framing lives in lib/netlink. Register `fd` with the reactor
 * and call `receive()` until it returns undefined.
 */
import { SysError } from "./errors.ts";
import { addressOf, errno, libc } from "./libc.ts";
import { requireConstant } from "./platform/mod.ts";
import { decodeSockaddrNl, encodeSockaddrNl, HOST_LITTLE_ENDIAN } from "./sockaddr.ts";
import {
  bindSocket,
  closeFd,
  isErrno,
  openSocket,
  receiveInto,
  sendTo,
  setIntOption,
  setOption,
  setReceiveBuffer,
  socketName,
} from "./syscalls.ts";

/**
 * Large enough for any datagram the kernel builds: netlink dumps are cut at
 * 32 KiB per skb, so 64 KiB never truncates.
 */
const RECEIVE_BUFFER_BYTES = 64 * 1024;

/**
 * `receiveShared` reads datagrams into arenas of this size, one after the
 * other; a datagram is a view into its arena, which lives as long as any
 * view of it does.
 */
const ARENA_BYTES = 1024 * 1024;

/** SO_ATTACH_FILTER (asm-generic/socket.h): netlink sockets exist on Linux only. */
const SO_ATTACH_FILTER = 26;

/** Datagrams per recvmmsg, and the room for each (a dump part is at most 32 KiB). */
const BATCH_MESSAGES = 64;
const BATCH_SLOT_BYTES = 64 * 1024;

/**
 * The arrays recvmmsg(2) reads through, built once per socket (LP64 Linux):
 *
 *   struct mmsghdr (64)  = struct msghdr (56) + unsigned msg_len @56 + pad
 *   struct msghdr        msg_name @0, msg_namelen @8, msg_iov @16, msg_iovlen @24,
 *                        msg_control @32, msg_controllen @40, msg_flags @48
 *   struct iovec (16)    iov_base @0, iov_len @8
 *   struct sockaddr_nl (12) nl_family @0, nl_pid @4, nl_groups @8
 *
 * Every buffer is an ArrayBuffer of its own, so the addresses written into
 * the headers stay valid for the socket's life.
 */
class MessageBatch {
  readonly #headers: Uint8Array<ArrayBuffer>;
  readonly #headerView: DataView;
  readonly #names: DataView;
  readonly #window: Uint8Array<ArrayBuffer>;
  readonly #iovecs: Uint8Array<ArrayBuffer>;

  private constructor() {
    this.#headers = new Uint8Array(new ArrayBuffer(BATCH_MESSAGES * 64));
    this.#headerView = new DataView(this.#headers.buffer);
    const names = new Uint8Array(new ArrayBuffer(BATCH_MESSAGES * 12));
    this.#names = new DataView(names.buffer);
    this.#window = new Uint8Array(new ArrayBuffer(BATCH_MESSAGES * BATCH_SLOT_BYTES));
    this.#iovecs = new Uint8Array(new ArrayBuffer(BATCH_MESSAGES * 16));
    const iov = new DataView(this.#iovecs.buffer);
    const window = addressOf(this.#window);
    const iovecs = addressOf(this.#iovecs);
    const nameBase = addressOf(names);
    for (let i = 0; i < BATCH_MESSAGES; i++) {
      iov.setBigUint64(i * 16, window + BigInt(i * BATCH_SLOT_BYTES), HOST_LITTLE_ENDIAN);
      iov.setBigUint64(i * 16 + 8, BigInt(BATCH_SLOT_BYTES), HOST_LITTLE_ENDIAN);
      const h = i * 64;
      this.#headerView.setBigUint64(h, nameBase + BigInt(i * 12), HOST_LITTLE_ENDIAN);
      this.#headerView.setBigUint64(h + 16, iovecs + BigInt(i * 16), HOST_LITTLE_ENDIAN);
      this.#headerView.setBigUint64(h + 24, 1n, HOST_LITTLE_ENDIAN);
    }
  }

  /** A batch, or null where recvmmsg or the LP64 Linux layout is not available. */
  static create(): MessageBatch | null {
    if (Deno.build.os !== "linux" || !libc().recvmmsg) return null;
    return new MessageBatch();
  }

  /** recvmmsg; the count of datagrams, or -1 (errno set). */
  receive(fd: number, flags: number, count: number): number {
    for (let i = 0; i < count; i++) {
      this.#headerView.setUint32(i * 64 + 8, 12, HOST_LITTLE_ENDIAN); // msg_namelen
    }
    return libc().recvmmsg!(fd, this.#headers, count, flags, null);
  }

  /** Length of datagram `i` (its full length: MSG_TRUNC is among the flags). */
  length(i: number): number {
    return this.#headerView.getUint32(i * 64 + 56, HOST_LITTLE_ENDIAN);
  }

  /** nl_pid of datagram `i`'s sender: 0 for the kernel. */
  sender(i: number): number {
    return this.#names.getUint32(i * 12 + 4, HOST_LITTLE_ENDIAN);
  }

  slot(i: number, length: number): Uint8Array {
    return this.#window.subarray(i * BATCH_SLOT_BYTES, i * BATCH_SLOT_BYTES + length);
  }
}

export interface NetlinkSocketOptions {
  /** Receive buffer in bytes (SO_RCVBUFFORCE, falling back to SO_RCVBUF). */
  rcvbuf?: number;
}

export class NetlinkSocket {
  readonly fd: number;
  readonly protocol: number;
  /** The port id (nl_pid) the kernel assigned at bind time. */
  readonly portId: number;
  #closed = false;
  readonly #buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  readonly #from: Uint8Array<ArrayBuffer>;
  readonly #fromView: DataView;
  readonly #fromLengthWord = new Uint32Array(1);
  readonly #fromLength = new Uint8Array(this.#fromLengthWord.buffer);
  readonly #kernel: Uint8Array<ArrayBuffer>;
  #arena = new Uint8Array(0);
  #arenaAt = 0;
  #flags = -1;
  /** recvmmsg plumbing: undefined until first use, null when libc has no recvmmsg. */
  #batch: MessageBatch | null | undefined = undefined;
  #queue: Uint8Array[] = [];
  #queueHead = 0;

  private constructor(fd: number, protocol: number, portId: number) {
    this.fd = fd;
    this.protocol = protocol;
    this.portId = portId;
    this.#kernel = encodeSockaddrNl(0, 0);
    this.#from = new Uint8Array(this.#kernel.length);
    this.#fromView = new DataView(this.#from.buffer);
  }

  /**
   * socket(AF_NETLINK, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, protocol), bound
   * with `groups` as the nl_groups bitmask (groups 1–32; use joinGroup for
   * larger numbers), port id read back with getsockname.
   */
  static open(protocol: number, groups = 0, opts: NetlinkSocketOptions = {}): NetlinkSocket {
    const type = requireConstant("SOCK_RAW") | requireConstant("SOCK_NONBLOCK") |
      requireConstant("SOCK_CLOEXEC");
    const fd = openSocket(requireConstant("AF_NETLINK"), type, protocol);
    try {
      if (opts.rcvbuf !== undefined) setReceiveBuffer(fd, opts.rcvbuf);
      const label = `AF_NETLINK, protocol ${protocol}, groups 0x${(groups >>> 0).toString(16)}`;
      bindSocket(fd, encodeSockaddrNl(0, groups), label);
      const name = socketName(fd, encodeSockaddrNl().length);
      return new NetlinkSocket(fd, protocol, decodeSockaddrNl(name).pid);
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /** Sends one datagram (one or more netlink messages) to the kernel. */
  send(bytes: Uint8Array): void {
    this.#open("send");
    const data = bytes.buffer instanceof ArrayBuffer
      ? bytes as Uint8Array<ArrayBuffer>
      : new Uint8Array(bytes);
    const sent = sendTo(this.fd, data, this.#kernel, `AF_NETLINK ${this.protocol}`);
    if (sent !== bytes.length) {
      throw new Error(`netlink send: ${sent} of ${bytes.length} bytes sent`);
    }
  }

  /**
   * One datagram from the kernel (a copy), or undefined when nothing is
   * queued. Datagrams from other user-space ports are dropped unseen.
   * Throws SysError with code "ENOBUFS" once after the kernel dropped
   * messages for lack of buffer; reading may continue afterwards.
   */
  receive(): Uint8Array | undefined {
    this.#open("receive");
    const label = `AF_NETLINK ${this.protocol}`;
    for (;;) {
      const length = receiveInto(
        this.fd,
        this.#buffer,
        label,
        this.#from,
        requireConstant("MSG_TRUNC"),
      );
      if (length < 0) return undefined;
      if (length > this.#buffer.length) {
        throw new Error(
          `netlink receive: ${length}-byte datagram truncated to ${this.#buffer.length}`,
        );
      }
      if (decodeSockaddrNl(this.#from).pid !== 0) continue;
      return this.#buffer.slice(0, length);
    }
  }

  /**
   * Like `receive`, for hot paths: datagrams are read up to `batch` (at most
   * 64) per recvmmsg call, packed into a large arena and returned as views of
   * it, one per call (the bytes are never overwritten; an arena is freed when
   * no view is left), and the sender check reads nl_pid in place. An event
   * stream costs one small view per datagram instead of a system call and a
   * buffer. A dump builds each part as the previous one is read, so a small
   * `batch` keeps that kernel work in small steps.
   */
  receiveShared(batch = BATCH_MESSAGES): Uint8Array | undefined {
    this.#open("receive");
    if (this.#flags < 0) {
      this.#flags = requireConstant("MSG_DONTWAIT") | requireConstant("MSG_TRUNC");
    }
    if (this.#queueHead < this.#queue.length) return this.#queue[this.#queueHead++];
    if (this.#batch !== null) {
      this.#batch ??= MessageBatch.create();
      if (this.#batch) {
        return this.#receiveBatch(this.#batch, Math.max(1, Math.min(batch, BATCH_MESSAGES)));
      }
    }
    for (;;) {
      if (this.#arena.length - this.#arenaAt < RECEIVE_BUFFER_BYTES) {
        this.#arena = new Uint8Array(ARENA_BYTES);
        this.#arenaAt = 0;
      }
      const room = this.#arena.subarray(this.#arenaAt, this.#arenaAt + RECEIVE_BUFFER_BYTES);
      this.#fromLengthWord[0] = this.#from.length;
      const got = Number(
        libc().recvfrom(
          this.fd,
          room,
          BigInt(room.length),
          this.#flags,
          this.#from,
          this.#fromLength,
        ),
      );
      if (got < 0) {
        const code = errno();
        if (isErrno(code, "EINTR")) continue;
        if (isErrno(code, "EAGAIN")) return undefined;
        throw new SysError(`recvfrom(AF_NETLINK ${this.protocol})`, code);
      }
      if (got > room.length) {
        throw new Error(`netlink receive: ${got}-byte datagram truncated to ${room.length}`);
      }
      if (this.#fromView.getUint32(4, HOST_LITTLE_ENDIAN) !== 0) continue; // not the kernel
      const datagram = room.subarray(0, got);
      this.#arenaAt += (got + 7) & ~7;
      return datagram;
    }
  }

  /**
   * Up to BATCH_MESSAGES datagrams with one recvmmsg(2), copied packed into
   * the arena and queued; returns the first. One system call (and one FFI
   * transition) per batch instead of per datagram: a busy event socket holds
   * thousands of one-message datagrams.
   */
  #receiveBatch(batch: MessageBatch, count: number): Uint8Array | undefined {
    this.#queue = [];
    this.#queueHead = 0;
    for (;;) {
      const got = batch.receive(this.fd, this.#flags, count);
      if (got < 0) {
        const code = errno();
        if (isErrno(code, "EINTR")) continue;
        if (isErrno(code, "EAGAIN")) return undefined;
        throw new SysError(`recvmmsg(AF_NETLINK ${this.protocol})`, code);
      }
      for (let i = 0; i < got; i++) {
        const length = batch.length(i);
        if (length > BATCH_SLOT_BYTES) {
          throw new Error(
            `netlink receive: ${length}-byte datagram truncated to ${BATCH_SLOT_BYTES}`,
          );
        }
        if (batch.sender(i) !== 0) continue; // not the kernel
        if (this.#arena.length - this.#arenaAt < length) {
          this.#arena = new Uint8Array(Math.max(ARENA_BYTES, length));
          this.#arenaAt = 0;
        }
        const datagram = this.#arena.subarray(this.#arenaAt, this.#arenaAt + length);
        datagram.set(batch.slot(i, length));
        this.#arenaAt += (length + 7) & ~7;
        this.#queue.push(datagram);
      }
      if (this.#queue.length > 0) return this.#queue[this.#queueHead++];
    }
  }

  /**
   * SO_ATTACH_FILTER: a classic BPF program (`struct sock_filter` array,
   * e.g. lib/netlink/ctnetlink_filter.ts) that the kernel runs on every
   * message before queueing it; messages it drops never use receive buffer.
   */
  attachFilter(program: Uint8Array): void {
    this.#open("attachFilter");
    if (program.length === 0 || program.length % 8 !== 0) {
      throw new RangeError(`a BPF program is a whole number of 8-byte instructions`);
    }
    // An ArrayBuffer of its own (not a small on-heap array): its address stays fixed.
    const instructions = new Uint8Array(new ArrayBuffer(Math.max(program.length, 128)));
    instructions.set(program);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; } (LP64: 16 bytes)
    const fprog = new Uint8Array(16);
    const view = new DataView(fprog.buffer);
    view.setUint16(0, program.length / 8, HOST_LITTLE_ENDIAN);
    view.setBigUint64(8, addressOf(instructions), HOST_LITTLE_ENDIAN);
    setOption(
      this.fd,
      requireConstant("SOL_SOCKET"),
      SO_ATTACH_FILTER,
      fprog,
      `SO_ATTACH_FILTER, ${program.length / 8} instructions`,
    );
    // Reachable until here, after the kernel has copied the program.
    if (instructions.byteLength < program.length) throw new Error("unreachable");
  }

  /** NETLINK_ADD_MEMBERSHIP: subscribe to multicast group number `group`. */
  joinGroup(group: number): void {
    this.#open("joinGroup");
    setIntOption(this.fd, "SOL_NETLINK", "NETLINK_ADD_MEMBERSHIP", group);
  }

  leaveGroup(group: number): void {
    this.#open("leaveGroup");
    setIntOption(this.fd, "SOL_NETLINK", "NETLINK_DROP_MEMBERSHIP", group);
  }

  /** Sets the receive buffer; returns the size the kernel reports (it doubles the request). */
  setReceiveBuffer(bytes: number): number {
    this.#open("setReceiveBuffer");
    return setReceiveBuffer(this.fd, bytes);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the fd once; later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }

  #open(what: string): void {
    if (this.#closed) throw new Error(`netlink ${what}: socket ${this.fd} is closed`);
  }
}
