/**
 * A non-blocking AF_NETLINK socket (rtnetlink, ctnetlink). It moves bytes
 * only: message framing lives in lib/netlink. Register `fd` with the reactor
 * and call `receive()` until it returns undefined.
 */
import { requireConstant } from "./platform/mod.ts";
import { decodeSockaddrNl, encodeSockaddrNl } from "./sockaddr.ts";
import {
  bindSocket,
  closeFd,
  openSocket,
  receiveInto,
  sendTo,
  setIntOption,
  setReceiveBuffer,
  socketName,
} from "./syscalls.ts";

/**
 * Large enough for any datagram the kernel builds: netlink dumps are cut at
 * 32 KiB per skb, so 64 KiB never truncates.
 */
const RECEIVE_BUFFER_BYTES = 64 * 1024;

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
  readonly #kernel: Uint8Array<ArrayBuffer>;

  private constructor(fd: number, protocol: number, portId: number) {
    this.fd = fd;
    this.protocol = protocol;
    this.portId = portId;
    this.#kernel = encodeSockaddrNl(0, 0);
    this.#from = new Uint8Array(this.#kernel.length);
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
