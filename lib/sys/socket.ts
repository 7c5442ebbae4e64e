/**
 * Raw IP sockets for CARP (protocol 112) and pfsync (240): IPv4 with the IP
 * header delivered in the data, IPv6 with hop limit, destination and
 * interface from recvmsg ancillary data (spec/carp.md §7.1–7.4). Sockets are
 * non-blocking; register `fd` with the Reactor and call `receive()` until it
 * returns undefined.
 *
 * FreeBSD before 11 delivered ip_len/ip_off of raw IPv4 packets in host order
 * with the header length subtracted; pfsyncd expects the wire form (Linux,
 * FreeBSD 11+), and such an old kernel's packets fail to decode as "badlen".
 */
import { addressesEqual, formatIPv4, parseIPv4, parseIPv6 } from "../net/address.ts";
import { decodeIPv4Header, ipv4Payload } from "../net/ipv4.ts";
import type { IPv4Header } from "../net/ipv4.ts";
import { ipv4Ifindex } from "./ancillary.ts";
import { MessageReceiver } from "./msghdr.ts";
import { platform, requireConstant } from "./platform/mod.ts";
import { encodeIpMreqn, encodeSockaddrIn } from "./sockaddr.ts";
import { cString } from "./libc.ts";
import {
  closeFd,
  interfaceIndex,
  openSocket,
  sendTo,
  setIntOption,
  setOption,
  setReceiveBuffer,
} from "./syscalls.ts";

export interface RawSocketOptions {
  /** IP protocol number: 112 (CARP), 240 (pfsync). */
  readonly protocol: number;
  /**
   * Interface to bind to. On Linux SO_BINDTODEVICE, so packets of other
   * interfaces are never seen; elsewhere received packets are filtered by ifindex.
   */
  readonly device?: string;
  /** Outgoing multicast interface; defaults to `device`'s index. */
  readonly multicastIfindex?: number;
  /** Unicast TTL / hop limit (255, CARP_DFLTTL). */
  readonly ttl?: number;
  /** Multicast TTL / hop limit (255; the kernel default 1 makes peers drop it). */
  readonly multicastTtl?: number;
  /** Receive our own multicast (off). */
  readonly multicastLoop?: boolean;
  /** IPv4 TOS (0x10, IPTOS_LOWDELAY). IPv6 sockets keep traffic class 0, as the 5.4 kernel did. */
  readonly tos?: number;
  /**
   * Receive buffer in bytes (SO_RCVBUFFORCE, else SO_RCVBUF up to
   * net.core.rmem_max); the kernel default (~208 KiB) drops bursts.
   */
  readonly receiveBuffer?: number;
}

export interface ReceivedPacket {
  readonly family: 4 | 6;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  /** Receiving interface; 0 if the kernel did not say. */
  readonly ifindex: number;
  /** IPv4 TTL or IPv6 hop limit as received; -1 if the kernel did not say. */
  readonly ttl: number;
  /** The upper-layer payload, in memory of its own (never the socket's reused buffer). */
  readonly payload: Uint8Array;
}

export interface ReceivedIPv4Packet extends ReceivedPacket {
  readonly family: 4;
  readonly ipHeader: IPv4Header;
}

export function addressBytes(address: Uint8Array | string, family: 4 | 6): Uint8Array {
  if (typeof address !== "string") return address;
  const parsed = family === 4 ? parseIPv4(address) : parseIPv6(address);
  if (!parsed) throw new Error(`not an IPv${family} address: ${JSON.stringify(address)}`);
  return parsed;
}

export function toArrayBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
}

export const SOCK_FLAGS = (): number =>
  requireConstant("SOCK_NONBLOCK") | requireConstant("SOCK_CLOEXEC");

export abstract class RawSocket {
  readonly fd: number;
  readonly protocol: number;
  /** Index of `device`, 0 when unbound. */
  readonly ifindex: number;
  protected readonly receiver = new MessageReceiver();
  /** The socket as error messages name it, built once rather than per packet. */
  protected readonly receiveLabel: string;
  #closed = false;

  protected constructor(fd: number, protocol: number, ifindex: number, family: 4 | 6) {
    this.fd = fd;
    this.protocol = protocol;
    this.ifindex = ifindex;
    this.receiveLabel = `${family === 4 ? "AF_INET" : "AF_INET6"} raw ${protocol}`;
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

  protected ensureOpen(what: string): void {
    if (this.#closed) throw new Error(`${what}: socket ${this.fd} is closed`);
  }

  /** Linux binds in the kernel; on platforms without SO_BINDTODEVICE we drop by ifindex. */
  protected wanted(ifindex: number): boolean {
    return this.ifindex === 0 || platform().constants.SO_BINDTODEVICE !== undefined ||
      ifindex === this.ifindex;
  }
}

/** Runs `setup` on a fresh fd and closes it if setup throws. */
export function configured(fd: number, setup: () => void): void {
  try {
    setup();
  } catch (error) {
    closeFd(fd);
    throw error;
  }
}

export function bindToDevice(fd: number, device: string): void {
  if (platform().constants.SO_BINDTODEVICE === undefined) return;
  setOption(
    fd,
    requireConstant("SOL_SOCKET"),
    requireConstant("SO_BINDTODEVICE"),
    cString(device),
    `SO_BINDTODEVICE, "${device}"`,
  );
}

export class RawIPv4Socket extends RawSocket {
  // The last destination's sockaddr (and its text, when given as text), so a
  // steady sender parses and encodes it once.
  #lastDestination: Uint8Array | undefined;
  #lastText: string | undefined;
  #lastSockaddr: Uint8Array<ArrayBuffer> | undefined;

  /** socket(AF_INET, SOCK_RAW, protocol) with the options CARP needs (see RawSocketOptions). */
  static open(options: RawSocketOptions): RawIPv4Socket {
    const fd = openSocket(
      requireConstant("AF_INET"),
      requireConstant("SOCK_RAW") | SOCK_FLAGS(),
      options.protocol,
    );
    let ifindex = 0;
    configured(fd, () => {
      const c = platform().constants;
      if (c.IP_PKTINFO !== undefined) setIntOption(fd, "IPPROTO_IP", "IP_PKTINFO", 1);
      else setIntOption(fd, "IPPROTO_IP", "IP_RECVIF", 1);
      setIntOption(fd, "IPPROTO_IP", "IP_TTL", options.ttl ?? 255);
      setIntOption(fd, "IPPROTO_IP", "IP_TOS", options.tos ?? 0x10);
      setIntOption(fd, "IPPROTO_IP", "IP_MULTICAST_TTL", options.multicastTtl ?? 255);
      setIntOption(fd, "IPPROTO_IP", "IP_MULTICAST_LOOP", options.multicastLoop ? 1 : 0);
      if (options.receiveBuffer !== undefined) setReceiveBuffer(fd, options.receiveBuffer);
      if (options.device !== undefined) {
        ifindex = interfaceIndex(options.device);
        bindToDevice(fd, options.device);
      }
      const multicastIf = options.multicastIfindex ?? ifindex;
      if (multicastIf !== 0) setMulticastInterface4(fd, multicastIf);
    });
    return new RawIPv4Socket(fd, options.protocol, ifindex, 4);
  }

  /** IP_ADD_MEMBERSHIP with struct ip_mreqn on interface `ifindex` (default: the bound device). */
  joinGroup(group: Uint8Array | string, ifindex = this.ifindex): void {
    this.#membership("IP_ADD_MEMBERSHIP", group, ifindex);
  }

  leaveGroup(group: Uint8Array | string, ifindex = this.ifindex): void {
    this.#membership("IP_DROP_MEMBERSHIP", group, ifindex);
  }

  /** IP_MULTICAST_IF by index. */
  setMulticastInterface(ifindex: number): void {
    this.ensureOpen("setMulticastInterface");
    setMulticastInterface4(this.fd, ifindex);
  }

  /** Sends `payload` as one IPv4 datagram (the kernel adds the header); returns bytes sent. */
  sendTo(address: Uint8Array | string, payload: Uint8Array): number {
    this.ensureOpen("sendTo");
    let sockaddr = this.#lastSockaddr;
    let destination = this.#lastDestination;
    if (typeof address !== "string" || address !== this.#lastText || !sockaddr) {
      const bytes = addressBytes(address, 4);
      if (!destination || !sockaddr || !addressesEqual(destination, bytes)) {
        sockaddr = encodeSockaddrIn(bytes);
        destination = bytes.slice();
        this.#lastDestination = destination;
        this.#lastSockaddr = sockaddr;
      }
      this.#lastText = typeof address === "string" ? address : undefined;
    }
    const to = destination!;
    return sendTo(
      this.fd,
      toArrayBuffer(payload),
      sockaddr,
      () => `${this.protocol}, ${formatIPv4(to)}`,
    );
  }

  /**
   * The next packet, or undefined when none is queued. Throws DecodeError
   * for an IP header that does not decode (count it and go on).
   */
  receive(): ReceivedIPv4Packet | undefined {
    return this.#next(true);
  }

  /**
   * receive() without copying the datagram: the packet's bytes are views into
   * the socket's receive buffer and valid only until the next receive on this
   * socket — for a consumer that is done with each packet before the next
   * (the pfsync drain; a copy a packet was most of its garbage).
   */
  receiveTransient(): ReceivedIPv4Packet | undefined {
    return this.#next(false);
  }

  #next(copy: boolean): ReceivedIPv4Packet | undefined {
    this.ensureOpen("receive");
    for (;;) {
      const message = this.receiver.receive(this.fd, this.receiveLabel);
      if (!message) return undefined;
      const ifindex = ipv4Ifindex(message.control);
      if (!this.wanted(ifindex)) continue;
      // At most one copy of the datagram; header fields and payload are views into it.
      const datagram = copy ? message.data.slice() : message.data;
      const ipHeader = decodeIPv4Header(datagram, 0, { share: true });
      return {
        family: 4,
        source: ipHeader.source,
        destination: ipHeader.destination,
        ifindex,
        ttl: ipHeader.ttl,
        payload: ipv4Payload(datagram, ipHeader),
        ipHeader,
      };
    }
  }

  #membership(
    option: "IP_ADD_MEMBERSHIP" | "IP_DROP_MEMBERSHIP",
    group: Uint8Array | string,
    ifindex: number,
  ): void {
    this.ensureOpen(option);
    const bytes = addressBytes(group, 4);
    setOption(
      this.fd,
      requireConstant("IPPROTO_IP"),
      requireConstant(option),
      encodeIpMreqn(bytes, ifindex),
      `${option}, ${formatIPv4(bytes)}, ifindex ${ifindex}`,
    );
  }
}

function setMulticastInterface4(fd: number, ifindex: number): void {
  setOption(
    fd,
    requireConstant("IPPROTO_IP"),
    requireConstant("IP_MULTICAST_IF"),
    encodeIpMreqn(new Uint8Array(4), ifindex),
    `IP_MULTICAST_IF, ifindex ${ifindex}`,
  );
}
