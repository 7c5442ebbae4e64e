/**
 * Raw IPv6 socket for CARP over ff02::12 (spec/carp.md §1.3, §7.1–7.4). The
 * kernel does not deliver the IPv6 header on a raw socket, so the hop limit,
 * destination and receiving interface come from IPV6_RECVHOPLIMIT and
 * IPV6_RECVPKTINFO ancillary data and the source from msg_name.
 */
import { formatIPv6 } from "../net/address.ts";
import { requireConstant } from "./platform/mod.ts";
import { ipv6Ancillary } from "./ancillary.ts";
import { decodeInetSockaddr, encodeIpv6Mreq, encodeSockaddrIn6 } from "./sockaddr.ts";
import {
  addressBytes,
  bindToDevice,
  configured,
  RawSocket,
  SOCK_FLAGS,
  toArrayBuffer,
} from "./socket.ts";
import type { RawSocketOptions, ReceivedPacket } from "./socket.ts";
import { interfaceIndex, openSocket, sendTo, setIntOption, setOption } from "./syscalls.ts";

export class RawIPv6Socket extends RawSocket {
  /** socket(AF_INET6, SOCK_RAW, protocol) with hop limits 255 and pktinfo/hoplimit ancillary data. */
  static open(options: RawSocketOptions): RawIPv6Socket {
    const fd = openSocket(
      requireConstant("AF_INET6"),
      requireConstant("SOCK_RAW") | SOCK_FLAGS(),
      options.protocol,
    );
    let ifindex = 0;
    configured(fd, () => {
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_RECVPKTINFO", 1);
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_RECVHOPLIMIT", 1);
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_UNICAST_HOPS", options.ttl ?? 255);
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_MULTICAST_HOPS", options.multicastTtl ?? 255);
      setIntOption(fd, "IPPROTO_IPV6", "IPV6_MULTICAST_LOOP", options.multicastLoop ? 1 : 0);
      if (options.device !== undefined) {
        ifindex = interfaceIndex(options.device);
        bindToDevice(fd, options.device);
      }
      const multicastIf = options.multicastIfindex ?? ifindex;
      if (multicastIf !== 0) setIntOption(fd, "IPPROTO_IPV6", "IPV6_MULTICAST_IF", multicastIf);
    });
    return new RawIPv6Socket(fd, options.protocol, ifindex, 6);
  }

  /** IPV6_JOIN_GROUP (struct ipv6_mreq) on interface `ifindex` (default: the bound device). */
  joinGroup(group: Uint8Array | string, ifindex = this.ifindex): void {
    this.#membership("IPV6_JOIN_GROUP", group, ifindex);
  }

  leaveGroup(group: Uint8Array | string, ifindex = this.ifindex): void {
    this.#membership("IPV6_LEAVE_GROUP", group, ifindex);
  }

  /**
   * Sends `payload` to `address`; `scopeId` (default: the bound device) is
   * required for link-local and ff02:: destinations.
   */
  sendTo(address: Uint8Array | string, payload: Uint8Array, scopeId = this.ifindex): number {
    this.ensureOpen("sendTo");
    const destination = addressBytes(address, 6);
    return sendTo(
      this.fd,
      toArrayBuffer(payload),
      encodeSockaddrIn6(destination, 0, scopeId),
      () => `${this.protocol}, ${formatIPv6(destination)}%${scopeId}`,
    );
  }

  /** The next packet, or undefined when none is queued. */
  receive(): ReceivedPacket | undefined {
    this.ensureOpen("receive");
    for (;;) {
      const message = this.receiver.receive(this.fd, this.receiveLabel);
      if (!message) return undefined;
      const { ifindex, hopLimit, destination } = ipv6Ancillary(message.control);
      if (!this.wanted(ifindex)) continue;
      const from = decodeInetSockaddr(message.name);
      return {
        family: 6,
        source: from?.address ?? new Uint8Array(16),
        destination,
        ifindex,
        ttl: hopLimit,
        payload: message.data.slice(),
      };
    }
  }

  #membership(
    option: "IPV6_JOIN_GROUP" | "IPV6_LEAVE_GROUP",
    group: Uint8Array | string,
    ifindex: number,
  ): void {
    this.ensureOpen(option);
    const bytes = addressBytes(group, 6);
    setOption(
      this.fd,
      requireConstant("IPPROTO_IPV6"),
      requireConstant(option),
      encodeIpv6Mreq(bytes, ifindex),
      `${option}, ${formatIPv6(bytes)}, ifindex ${ifindex}`,
    );
  }
}
