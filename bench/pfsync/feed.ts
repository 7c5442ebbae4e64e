/**
 * Fills an agent's table fast for the sync benchmark: run inside a lab
 * namespace on the sync segment, it sends COUNT distinct TCP states as pfsync
 * INS packets (9 full records each, the 2048-byte pfsync MTU) by unicast to
 * TARGET, paced at PPS packets per second. The agent learns them as states of
 * a foreign creator (0x0000fee0) — a `states import` of a million JSON lines
 * would take half a minute, this takes seconds. It first sends BUS START and
 * BUS END so an agent with no other peer stops waiting for a bulk update.
 *
 *   deno run -A bench/pfsync/feed.ts TARGET COUNT [PPS]
 *
 * Prints {"sent": packets, "states": COUNT, "ms": …}.
 */
import {
  encodeFrame,
  IPPROTO_PFSYNC,
  maxRecordsForMtu,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_INS,
  PFSYNC_BUS_END,
  PFSYNC_BUS_START,
} from "../../lib/pfsync/mod.ts";
import { establishedPeer, establishedTcpState } from "../../lib/state/synthetic.ts";
import type { State } from "../../lib/state/types.ts";
import { RawIPv4Socket } from "../../lib/sys/mod.ts";

export const FEED_CREATOR = 0x0000fee0;

/** State `i` of the feed: ids 0xfeed0000_iiiiiiii, flows 10.x.y.z:port → 203.0.113.80:443. */
export function feedState(i: number): State {
  const lan = { addr: `10.${(i >> 14) & 255}.${(i >> 6) & 255}.${i & 63}`, port: 1024 + (i >> 22) };
  return establishedTcpState({
    id: 0xfeed0000_00000000n + BigInt(i),
    creatorId: FEED_CREATOR,
    lan,
    ext: { addr: "203.0.113.80", port: 443 },
    src: establishedPeer(i * 7, i * 7 + 65535, 7),
    dst: establishedPeer(i * 13, i * 13 + 65535, 7),
    creation: 30,
  });
}

if (import.meta.main) {
  const [target, countText, ppsText] = Deno.args;
  const count = Number(countText);
  const pps = Number(ppsText ?? 20_000);
  const socket = RawIPv4Socket.open({ protocol: IPPROTO_PFSYNC, device: "sync0", ttl: 255 });
  for (const status of [PFSYNC_BUS_START, PFSYNC_BUS_END]) {
    socket.sendTo(
      target,
      encodeFrame({
        action: PFSYNC_ACT_BUS,
        records: [{ creatorId: FEED_CREATOR, endtime: 0, status }],
      }),
    );
  }
  const perPacket = maxRecordsForMtu(2048);
  const started = performance.now();
  let packets = 0;
  for (let first = 0; first < count; first += perPacket) {
    const records: State[] = [];
    for (let i = first; i < Math.min(count, first + perPacket); i++) records.push(feedState(i));
    for (;;) {
      try {
        socket.sendTo(target, encodeFrame({ action: PFSYNC_ACT_INS, records }));
        break;
      } catch (error) {
        // A full socket send buffer (EAGAIN/ENOBUFS): give the receiver a moment.
        if (!/EAGAIN|ENOBUFS|EWOULDBLOCK/.test(String(error))) throw error;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    packets++;
    if (packets % 50 === 0) {
      const wait = started + (packets / pps) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  socket.close();
  console.log(JSON.stringify({ sent: packets, states: count, ms: performance.now() - started }));
}
