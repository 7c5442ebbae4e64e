/**
 * Text forms of the control results, in the shapes operators know from the
 * BSDs: `ifconfig` for CARP and pfsync, `netstat -s -p pfsync|carp` for the
 * counters, `pfctl -s state` for states. Pure: objects in, lines out.
 */
import type {
  BulkStatus,
  Counters,
  DemotionStatus,
  StateView,
  StatusResult,
  WatchEvent,
} from "./types.ts";

/** The group pfsync sends to when no syncpeer is set (INADDR_PFSYNC_GROUP). */
export const PFSYNC_DEFAULT_PEER = "224.0.0.240";

/** [counter, depth, wording]; `(s)` becomes "s" unless the count is 1, as netstat does. */
type CounterLine = readonly [key: string, depth: 1 | 2, text: string];

// netstat's wording and nesting, in the order netstat prints them.
const PFSYNC_COUNTER_LINES: readonly CounterLine[] = [
  ["ipackets", 1, "packet(s) received (IPv4)"],
  ["ipackets6", 1, "packet(s) received (IPv6)"],
  ["badif", 2, "packet(s) discarded for bad interface"],
  ["badttl", 2, "packet(s) discarded for bad ttl"],
  ["hdrops", 2, "packet(s) shorter than header"],
  ["badver", 2, "packet(s) discarded for bad version"],
  ["badauth", 2, "packet(s) discarded for bad HMAC"],
  ["badact", 2, "packet(s) discarded for bad action"],
  ["badlen", 2, "packet(s) discarded for short packet"],
  ["badval", 2, "state(s) discarded for bad values"],
  ["stale", 2, "stale state(s)"],
  ["badstate", 2, "failed state lookup/insert(s)"],
  ["opackets", 1, "packet(s) sent (IPv4)"],
  ["opackets6", 1, "packet(s) sent (IPv6)"],
  ["onomem", 2, "send failed due to mbuf memory error"],
  ["oerrors", 2, "send error(s)"],
  ["seqgaps", 1, "packet(s) lost (sequence gaps)"],
  ["bulkpurged", 1, "stale state(s) purged by bulk update"],
  ["nacksent", 1, "repair request(s) sent (NACK)"],
  ["nackrcvd", 1, "repair request(s) answered"],
  ["repairsent", 1, "state(s) re-sent as repairs"],
  ["seqrepaired", 1, "lost packet(s) repaired"],
  ["badrepair", 2, "malformed repair block(s) ignored"],
];

// carpstats in netstat's order; badif, oerrors, preempt and ownpackets are
// counted by pfsyncd's CARP engine but have no netstat line, so they get ours.
const CARP_COUNTER_LINES: readonly CounterLine[] = [
  ["ipackets", 1, "packet(s) received (IPv4)"],
  ["ipackets6", 1, "packet(s) received (IPv6)"],
  ["badif", 2, "packet(s) discarded for bad interface"],
  ["badttl", 2, "packet(s) discarded for wrong TTL"],
  ["hdrops", 2, "packet(s) shorter than header"],
  ["badsum", 2, "discarded for bad checksum(s)"],
  ["badver", 2, "discarded packet(s) with a bad version"],
  ["badlen", 2, "discarded because packet too short"],
  ["badauth", 2, "discarded for bad authentication"],
  ["badvhid", 2, "discarded for bad vhid"],
  ["badaddrs", 2, "discarded because of a bad address list"],
  ["ownpackets", 2, "own advertisement(s) ignored"],
  ["opackets", 1, "packet(s) sent (IPv4)"],
  ["opackets6", 1, "packet(s) sent (IPv6)"],
  ["onomem", 2, "send failed due to mbuf memory error"],
  ["oerrors", 2, "send error(s)"],
  ["preempt", 1, "takeover(s) from a worse master (preemption)"],
];

/**
 * `netstat -s -p NAME` form. Only counters present in `counters` are printed
 * (engines differ in what they count); ones netstat does not know follow
 * under their own names.
 */
export function renderCounters(
  name: string,
  counters: Counters,
  lines: readonly CounterLine[],
): string[] {
  const out = [`${name}:`];
  for (const [key, depth, text] of lines) {
    const value = counters[key];
    if (value === undefined) continue;
    out.push(`${"\t".repeat(depth)}${value} ${text.replaceAll("(s)", value === 1 ? "" : "s")}`);
  }
  const known = new Set(lines.map(([key]) => key));
  for (const key of Object.keys(counters).sort()) {
    if (!known.has(key)) out.push(`\t\t${counters[key]} ${key}`);
  }
  return out;
}

export function renderPfsyncCounters(counters: Counters): string[] {
  return renderCounters("pfsync", counters, PFSYNC_COUNTER_LINES);
}

export function renderCarpCounters(counters: Counters): string[] {
  return renderCounters("carp", counters, CARP_COUNTER_LINES);
}

export function renderBulk(bulk: BulkStatus): string {
  const tries = bulk.tries === 1 ? "1 request" : `${bulk.tries} requests`;
  const hold = bulk.holdingPreemption ? ", holding CARP preemption" : "";
  return `bulk update: ${bulk.phase}, ${bulk.statesReceived} states received (${tries})${hold}`;
}

export function renderDemotion(demotion: DemotionStatus): string[] {
  const flag = demotion.maintenance ? " (maintenance mode)" : "";
  const out = [`demotion: ${demotion.value}${flag}`];
  for (const { reason, delta } of demotion.reasons) {
    out.push(`\t${delta >= 0 ? "+" : ""}${delta} ${reason}`);
  }
  return out;
}

export function renderStatus(status: StatusResult): string {
  const out: string[] = [];
  for (const vhid of status.carp) {
    out.push(
      `${vhid.interface}: carp: ${vhid.state} vhid ${vhid.vhid} advbase ${vhid.advbase} ` +
        `advskew ${vhid.advskew}`,
    );
    for (const address of vhid.addresses ?? []) {
      out.push(`\t${address.includes(":") ? "inet6" : "inet"} ${address}`);
    }
    if (vhid.reason) out.push(`\treason: ${vhid.reason}`);
  }
  const { pfsync } = status;
  const syncif = pfsync.syncif ? `syncif: ${pfsync.syncif} ` : "";
  if (pfsync.syncif === null && pfsync.syncpeer === null) {
    out.push(`pfsync: off maxupd: ${pfsync.maxupd}`);
  } else {
    const peer = pfsync.syncpeer ?? PFSYNC_DEFAULT_PEER;
    out.push(`pfsync: ${syncif}syncpeer: ${peer} maxupd: ${pfsync.maxupd}`);
  }
  out.push(renderBulk(pfsync.bulk));
  out.push(...renderDemotion(status.demotion));
  out.push(`states: ${status.states.count}`);
  out.push(...renderPfsyncCounters(pfsync.stats));
  out.push(...renderCarpCounters(status.carpStats));
  return out.join("\n") + "\n";
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** One state as `pfctl -s state` prints it; outbound `src -> dst`, inbound `dst <- src`. */
export function renderStateLine(state: StateView): string {
  const where = state.ifname === "" ? "all" : state.ifname;
  const flow = state.direction === "out"
    ? `${state.src} -> ${state.dst}`
    : `${state.dst} <- ${state.src}`;
  return `${where} ${state.proto} ${flow}       ${state.srcPeer.state}:${state.dstPeer.state}`;
}

/** `pfctl -s state -vv` form: the line plus age/expiry/counters and id/creator. */
export function renderState(state: StateView, verbose: boolean): string[] {
  const out = [renderStateLine(state)];
  if (!verbose) return out;
  out.push(
    `   age ${clock(state.age)}, expires in ${clock(state.expire)}, ` +
      `${state.packets[0]}:${state.packets[1]} pkts, ${state.bytes[0]}:${state.bytes[1]} bytes`,
  );
  out.push(`   id: ${state.id} creatorid: ${state.creatorid} origin: ${state.origin}`);
  return out;
}

export function renderWatchEvent(event: WatchEvent): string {
  switch (event.type) {
    case "state": {
      const from = event.origin === "local" ? "local" : `from ${event.origin}`;
      return `${event.ts} ${event.action} (${from}): ${renderStateLine(event.state)}`;
    }
    case "carp":
      return `${event.ts} carp: ${event.vhid}@${event.interface}: ${event.from} -> ${event.to}` +
        ` (${event.reason})`;
    case "demotion":
      return `${event.ts} demotion: ${event.value} (${event.reason})`;
    case "bulk":
      return `${event.ts} bulk update: ${event.phase}, ${event.statesReceived} states received`;
    case "overflow":
      return `${event.ts} watch fell behind: ${event.dropped} events dropped`;
  }
}
