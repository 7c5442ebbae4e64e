/**
 * The kernel's virtual MAC for a vhid, 00:00:5e:00:01:VHID (spec §1.1), for
 * the optional macvlan mode. Off by default; the trade-off (spec §7.9):
 *
 * - Without it (ucarp style) the VIP resolves to the parent's real MAC, so
 *   after a failover neighbours must learn the new MAC from our gratuitous
 *   ARP / unsolicited NA. Simple, works on every NIC, interoperates.
 * - With it, a macvlan child carrying this MAC holds the VIP and moves with
 *   the MASTER role, so neighbours' ARP caches stay valid and switches learn
 *   the new port from our advertisements. It needs a NIC that accepts an
 *   extra unicast MAC and arp_ignore/arp_announce/rp_filter tuning, and a
 *   second host using the same vhid on the segment (VRRP uses the same block)
 *   would clash.
 *
 * Peers do not care which one we use. ucarp's own advertisements use
 * 00:00:5e:00:00:VHID as Ethernet source instead (fifth byte 00).
 */

export function carpVirtualMac(vhid: number): Uint8Array {
  if (!Number.isInteger(vhid) || vhid < 1 || vhid > 255) {
    throw new RangeError(`vhid must be 1-255, got ${vhid}`);
  }
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, 0x01, vhid);
}

/** The Ethernet source ucarp puts on its advertisements, to recognise them in captures. */
export function ucarpAdvertisementMac(vhid: number): Uint8Array {
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, 0x00, vhid & 0xff);
}

/**
 * The name of the macvlan child that carries vhid `vhid` on `parent`:
 * `<parent>.c<vhid>`, the parent's name cut short so the whole fits the
 * kernel's 15 bytes (`eth0.c1`, `enp0s31f6.c200`, `averyverylongif` → `averyverylon.c7`).
 */
export function carpVirtualMacName(parent: string, vhid: number): string {
  const suffix = `.c${vhid}`;
  return `${parent.slice(0, 15 - suffix.length)}${suffix}`;
}
