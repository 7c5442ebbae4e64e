/**
 * struct pfsyncstats as of FreeBSD 6.x / OpenBSD 3.7 (spec pfsync.md §11),
 * then two of our own (sequence trailer and stale purge, beyond the BSDs),
 * plus the `netstat -s -p pfsync` rendering. Counter names are the ones
 * DecodeError reasons use, so the receive loop can count by name.
 */

export const PFSYNC_COUNTERS = [
  "ipackets",
  "ipackets6",
  "badif",
  "badttl",
  "hdrops",
  "badver",
  "badact",
  "badlen",
  "badauth",
  "stale",
  "badval",
  "badstate",
  "opackets",
  "opackets6",
  "onomem",
  "oerrors",
  /** Packets a peer's sequence trailer shows we never received. */
  "seqgaps",
  /** Peer-learned states deleted at the end of a bulk update because the responder lacked them. */
  "bulkpurged",
  /** NACKs sent for missing packets, and peers' NACKs for ours answered. */
  "nacksent",
  "nackrcvd",
  /** States re-sent in answer to NACKs. */
  "repairsent",
  /** Missing packets whose states a repair brought. */
  "seqrepaired",
  /** NACKs and repair markers that were cut short or malformed, and ignored. */
  "badrepair",
] as const;

export type PfsyncCounter = typeof PFSYNC_COUNTERS[number];
export type PfsyncStats = Record<PfsyncCounter, number>;

export function newPfsyncStats(): PfsyncStats {
  return Object.fromEntries(PFSYNC_COUNTERS.map((name) => [name, 0])) as PfsyncStats;
}

export function isPfsyncCounter(name: string): name is PfsyncCounter {
  return (PFSYNC_COUNTERS as readonly string[]).includes(name);
}

/** [counter, netstat phrase (singular, plural), indent level]. */
const LINES: readonly (readonly [PfsyncCounter, string, string, number])[] = [
  ["ipackets", "packet received (IPv4)", "packets received (IPv4)", 1],
  ["ipackets6", "packet received (IPv6)", "packets received (IPv6)", 1],
  ["badif", "packet discarded for bad interface", "packets discarded for bad interface", 2],
  ["badttl", "packet discarded for bad ttl", "packets discarded for bad ttl", 2],
  ["hdrops", "packet shorter than header", "packets shorter than header", 2],
  ["badver", "packet discarded for bad version", "packets discarded for bad version", 2],
  ["badauth", "packet discarded for bad HMAC", "packets discarded for bad HMAC", 2],
  ["badact", "packet discarded for bad action", "packets discarded for bad action", 2],
  ["badlen", "packet discarded for short packet", "packets discarded for short packet", 2],
  ["badval", "state discarded for bad values", "states discarded for bad values", 2],
  ["stale", "stale state", "stale states", 2],
  ["badstate", "failed state lookup/insert", "failed state lookup/inserts", 2],
  ["opackets", "packet sent (IPv4)", "packets sent (IPv4)", 1],
  ["opackets6", "packet sent (IPv6)", "packets sent (IPv6)", 1],
  ["onomem", "send failed due to mbuf memory error", "send failed due to mbuf memory error", 2],
  ["oerrors", "send error", "send errors", 2],
  ["seqgaps", "packet lost (sequence gap)", "packets lost (sequence gaps)", 1],
  ["bulkpurged", "stale state purged by bulk update", "stale states purged by bulk update", 1],
  ["nacksent", "repair request sent (NACK)", "repair requests sent (NACK)", 1],
  ["nackrcvd", "repair request answered", "repair requests answered", 1],
  ["repairsent", "state re-sent as a repair", "states re-sent as repairs", 1],
  ["seqrepaired", "lost packet repaired", "lost packets repaired", 1],
  ["badrepair", "malformed repair block ignored", "malformed repair blocks ignored", 2],
];

/** The `netstat -s -p pfsync` block: "pfsync:" then one tab-indented line a counter. */
export function formatPfsyncStats(stats: PfsyncStats): string {
  const lines = ["pfsync:"];
  for (const [name, one, many, indent] of LINES) {
    const value = stats[name];
    lines.push(`${"\t".repeat(indent)}${value} ${value === 1 ? one : many}`);
  }
  return lines.join("\n");
}
