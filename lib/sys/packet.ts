/**
 * Link-layer announcements a new master sends (spec/carp.md §7.7–7.8):
 * gratuitous ARP through an AF_PACKET socket (Linux), and unsolicited
 * neighbour advertisements through a raw ICMPv6 socket. The frames come from
 * the pure codecs in lib/net; this file only owns the sockets.
 */
import { parseIPv4, parseIPv6 } from "../net/address.ts";
import { encodeGratuitousArpFrame } from "../net/arp.ts";
import type { GratuitousArpOptions } from "../net/arp.ts";
import { decodeEthernetHeader } from "../net/ethernet.ts";
import {
  ALL_NODES_MULTICAST,
  encodeNeighborAdvertisement,
  unsolicitedNeighborAdvertisement,
} from "../net/icmpv6.ts";
import { platform, requireConstant } from "./platform/mod.ts";
import { encodeSockaddrIn6, encodeSockaddrLl } from "./sockaddr.ts";
import { closeFd, openSocket, sendTo, setIntOption, setOption } from "./syscalls.ts";

function bytesOf(address: Uint8Array | string, family: 4 | 6): Uint8Array {
  if (typeof address !== "string") return address;
  const parsed = family === 4 ? parseIPv4(address) : parseIPv6(address);
  if (!parsed) throw new Error(`not an IPv${family} address: ${JSON.stringify(address)}`);
  return parsed;
}

abstract class SendOnlySocket {
  readonly fd: number;
  #closed = false;

  protected constructor(fd: number) {
    this.fd = fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }

  protected ensureOpen(what: string): void {
    if (this.#closed) throw new Error(`${what}: socket ${this.fd} is closed`);
  }
}

/**
 * AF_PACKET/SOCK_RAW socket for sending hand-built Ethernet frames. It is
 * opened with protocol 0, so the kernel queues no received frames to it.
 */
export class PacketSocket extends SendOnlySocket {
  static open(): PacketSocket {
    const type = requireConstant("SOCK_RAW") | requireConstant("SOCK_NONBLOCK") |
      requireConstant("SOCK_CLOEXEC");
    return new PacketSocket(openSocket(requireConstant("AF_PACKET"), type, 0));
  }

  /** Sends a complete frame (Ethernet header included) out of `ifindex`. */
  sendFrame(ifindex: number, frame: Uint8Array): number {
    this.ensureOpen("sendFrame");
    const header = decodeEthernetHeader(frame);
    const address = encodeSockaddrLl({
      protocol: header.etherType,
      ifindex,
      address: header.destination,
    });
    const label = `AF_PACKET, ifindex ${ifindex}, ethertype 0x${header.etherType.toString(16)}`;
    const data = new Uint8Array(frame);
    return sendTo(this.fd, data, address, label);
  }

  /**
   * Gratuitous ARP (request form) for `address`: broadcast, sender = target
   * = the address, sender MAC = `mac` (also the Ethernet source).
   */
  sendGratuitousArp(
    ifindex: number,
    address: Uint8Array | string,
    mac: Uint8Array,
    options: GratuitousArpOptions = {},
  ): number {
    return this.sendFrame(ifindex, encodeGratuitousArpFrame(bytesOf(address, 4), mac, options));
  }
}

/**
 * Raw ICMPv6 socket for unsolicited neighbour advertisements. The kernel
 * fills in the ICMPv6 checksum and the source address; an ICMP6_FILTER
 * that blocks every type keeps received ICMPv6 from piling up in it.
 */
export class NeighborAdvertiser extends SendOnlySocket {
  static open(): NeighborAdvertiser {
    const type = requireConstant("SOCK_RAW") | requireConstant("SOCK_NONBLOCK") |
      requireConstant("SOCK_CLOEXEC");
    const fd = openSocket(requireConstant("AF_INET6"), type, requireConstant("IPPROTO_ICMPV6"));
    try {
      // RFC 4861 §7.1.2: receivers drop NAs whose hop limit is not 255.
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_MULTICAST_HOPS", 255);
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_UNICAST_HOPS", 255);
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_MULTICAST_LOOP", 0);
      const blockAll = new Uint8Array(32).fill(platform().icmp6FilterBlockAllByte);
      setOption(
        fd,
        requireConstant("IPPROTO_ICMPV6"),
        requireConstant("ICMP6_FILTER"),
        blockAll,
        "ICMP6_FILTER, block all",
      );
    } catch (error) {
      closeFd(fd);
      throw error;
    }
    return new NeighborAdvertiser(fd);
  }

  /**
   * Unsolicited NA for `target` to ff02::1 on `ifindex`: Override set,
   * Router when `router`, Target Link-Layer Address option = `mac`.
   */
  sendUnsolicitedNa(
    ifindex: number,
    target: Uint8Array | string,
    mac: Uint8Array,
    router = false,
  ): number {
    this.ensureOpen("sendUnsolicitedNa");
    const packet = encodeNeighborAdvertisement(
      unsolicitedNeighborAdvertisement(bytesOf(target, 6), mac, router),
    );
    const data = new Uint8Array(packet);
    const destination = encodeSockaddrIn6(ALL_NODES_MULTICAST, 0, ifindex);
    return sendTo(this.fd, data, destination, `ICMPv6 NA, ff02::1%${ifindex}`);
  }
}
