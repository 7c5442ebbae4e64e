/**
 * Stale-update detection (spec pfsync.md §6.4, FreeBSD 6.x / OpenBSD 3.7):
 * an update that would move a state backwards is refused and answered with
 * our newer copy. Sequence numbers compare modulo 2^32.
 */
import type { State, StatePeer } from "../state/types.ts";
import { IPPROTO_TCP, TCPS_PROXY_SRC, TCPS_SYN_SENT } from "../state/types.ts";

/** "partial": full UPD whose src peer is newer but dst older — import src, then answer. */
export type StaleVerdict = "fresh" | "stale" | "partial";

/** a is after b, modulo 2^32. */
export function seqAfter(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

function srcWentBack(local: StatePeer, wire: StatePeer): boolean {
  // Synproxy levels may legitimately step back to a real TCP state.
  return local.state > wire.state && (local.state < TCPS_PROXY_SRC || wire.state >= TCPS_PROXY_SRC);
}

/** Judges an UPD_C record against our state. */
export function judgeCompressedUpdate(local: State, src: StatePeer, dst: StatePeer): StaleVerdict {
  if (local.proto !== IPPROTO_TCP) {
    return local.src.state > src.state || local.dst.state > dst.state ? "stale" : "fresh";
  }
  if (srcWentBack(local.src, src)) return "stale";
  if (local.dst.state > dst.state) return "stale";
  if (seqAfter(local.src.seqlo, src.seqlo)) return "stale";
  if (local.dst.state >= TCPS_SYN_SENT && seqAfter(local.dst.seqlo, dst.seqlo)) return "stale";
  return "fresh";
}

/** Judges a full UPD record: the dst-state check comes third and is "partial". */
export function judgeFullUpdate(local: State, src: StatePeer, dst: StatePeer): StaleVerdict {
  if (local.proto !== IPPROTO_TCP) {
    return local.src.state > src.state || local.dst.state > dst.state ? "stale" : "fresh";
  }
  if (srcWentBack(local.src, src)) return "stale";
  if (seqAfter(local.src.seqlo, src.seqlo)) return "stale";
  if (local.dst.state > dst.state) return "partial";
  if (local.dst.state >= TCPS_SYN_SENT && seqAfter(local.dst.seqlo, dst.seqlo)) return "stale";
  return "fresh";
}
