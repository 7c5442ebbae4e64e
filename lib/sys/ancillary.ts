/**
 * What CARP needs from received ancillary data, decoded per platform (pure,
 * so the FreeBSD forms are tested on Linux):
 *
 * - IPv4 receiving interface: Linux `IP_PKTINFO` → struct in_pktinfo
 *   (ipi_ifindex); FreeBSD `IP_RECVIF` → struct sockaddr_dl (sdl_index).
 * - IPv6: `IPV6_PKTINFO` → struct in6_pktinfo (destination, ifindex) and
 *   `IPV6_HOPLIMIT` → int, on both (type numbers differ).
 */
import type { ControlMessage } from "./msghdr.ts";
import { platform, requireConstant } from "./platform/mod.ts";
import type { Platform } from "./platform/mod.ts";
import { HOST_LITTLE_ENDIAN } from "./sockaddr.ts";

function viewOf(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** The receiving interface index from IPv4 control messages; 0 when absent. */
export function ipv4Ifindex(
  control: readonly ControlMessage[],
  table: Platform = platform(),
): number {
  const level = requireConstant("IPPROTO_IP", table);
  for (const cmsg of control) {
    if (cmsg.level !== level || cmsg.type !== table.cmsgTypes.ipIfindex) continue;
    const pktinfo = table.structs.in_pktinfo;
    if (pktinfo && cmsg.data.length >= pktinfo.size) {
      return viewOf(cmsg.data).getInt32(pktinfo.fields.ipi_ifindex, HOST_LITTLE_ENDIAN);
    }
    const dl = table.structs.sockaddr_dl;
    if (dl && cmsg.data.length >= dl.fields.sdl_index + 2) {
      return viewOf(cmsg.data).getUint16(dl.fields.sdl_index, HOST_LITTLE_ENDIAN);
    }
  }
  return 0;
}

export interface IPv6Ancillary {
  /** 0 when the kernel sent no IPV6_PKTINFO. */
  readonly ifindex: number;
  /** -1 when the kernel sent no IPV6_HOPLIMIT. */
  readonly hopLimit: number;
  /** :: when the kernel sent no IPV6_PKTINFO. */
  readonly destination: Uint8Array;
}

export function ipv6Ancillary(
  control: readonly ControlMessage[],
  table: Platform = platform(),
): IPv6Ancillary {
  const level = requireConstant("IPPROTO_IPV6", table);
  const pktinfo = table.structs.in6_pktinfo;
  let ifindex = 0;
  let hopLimit = -1;
  let destination = new Uint8Array(16);
  for (const cmsg of control) {
    if (cmsg.level !== level) continue;
    if (cmsg.type === table.cmsgTypes.ipv6HopLimit && cmsg.data.length >= 4) {
      hopLimit = viewOf(cmsg.data).getInt32(0, HOST_LITTLE_ENDIAN);
    } else if (
      cmsg.type === table.cmsgTypes.ipv6PktInfo && pktinfo && cmsg.data.length >= pktinfo.size
    ) {
      const at = pktinfo.fields.ipi6_addr;
      destination = cmsg.data.slice(at, at + 16);
      ifindex = viewOf(cmsg.data).getUint32(pktinfo.fields.ipi6_ifindex, HOST_LITTLE_ENDIAN);
    }
  }
  return { ifindex, hopLimit, destination };
}
