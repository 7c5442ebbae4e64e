/**
 * CARP packet counters, named as in the kernel's `struct carpstats` without
 * the `carps_` prefix, so a DecodeError reason indexes this record directly.
 */

export interface CarpStats {
  /** Every IPv4 CARP packet handed to the receiver, before any check. */
  ipackets: number;
  ipackets6: number;
  badif: number;
  badttl: number;
  hdrops: number;
  badsum: number;
  badver: number;
  badlen: number;
  badauth: number;
  badvhid: number;
  opackets: number;
  opackets6: number;
  /** Failed sends (the kernel splits these by cause; we have errno only). */
  oerrors: number;
  /** Takeovers of a live but worse master (T4 BACKUP rule 1). */
  preempt: number;
  /** Our own advertisements seen again (dropped before any counter). */
  ownpackets: number;
}

export type CarpCounter = keyof CarpStats;

export const CARP_COUNTERS: readonly CarpCounter[] = [
  "ipackets",
  "ipackets6",
  "badif",
  "badttl",
  "hdrops",
  "badsum",
  "badver",
  "badlen",
  "badauth",
  "badvhid",
  "opackets",
  "opackets6",
  "oerrors",
  "preempt",
  "ownpackets",
];

export function newCarpStats(): CarpStats {
  return Object.fromEntries(CARP_COUNTERS.map((c) => [c, 0])) as unknown as CarpStats;
}

export function isCarpCounter(name: string): name is CarpCounter {
  return (CARP_COUNTERS as readonly string[]).includes(name);
}

const DESCRIPTIONS: Record<CarpCounter, string> = {
  ipackets: "packets received (IPv4)",
  ipackets6: "packets received (IPv6)",
  badif: "dropped: interface has no CARP vhid",
  badttl: "dropped: TTL or hop limit not 255",
  hdrops: "dropped: IP header too short",
  badsum: "dropped: bad CARP checksum",
  badver: "dropped: CARP version not 2",
  badlen: "dropped: shorter than the 36-byte header",
  badauth: "dropped: HMAC mismatch",
  badvhid: "dropped: no such vhid on the interface",
  opackets: "packets sent (IPv4)",
  opackets6: "packets sent (IPv6)",
  oerrors: "send failures",
  preempt: "takeovers from a worse master",
  ownpackets: "own advertisements ignored",
};

/** `netstat -s -p carp`-style listing: received counters, then drops indented, then sent. */
export function formatCarpStats(stats: CarpStats): string {
  const lines = ["carp:"];
  for (const counter of CARP_COUNTERS) {
    const indent = DESCRIPTIONS[counter].startsWith("dropped") ? "\t\t" : "\t";
    lines.push(`${indent}${stats[counter]} ${DESCRIPTIONS[counter]}`);
  }
  return lines.join("\n");
}
