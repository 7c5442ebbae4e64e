/**
 * Well-formed synthetic states: an established TCP flow with pf's defaults
 * for everything a test, benchmark or demo does not care about. One builder,
 * so the fixtures that flood, feed or fuzz a table differ only in what they
 * choose (ids, addresses, sequence numbers).
 */
import {
  AF_INET,
  IPPROTO_TCP,
  PF_OUT,
  type State,
  type StateHost,
  type StatePeer,
  TCPS_ESTABLISHED,
} from "./types.ts";

/** pf's PFTM_TCP_ESTABLISHED timeout index. */
const TIMEOUT_TCP_ESTABLISHED = 2;

export function establishedPeer(seqlo: number, seqhi = seqlo + 65535, wscale = 0): StatePeer {
  return { seqlo, seqhi, seqdiff: 0, maxWin: 65535, mss: 1460, state: TCPS_ESTABLISHED, wscale };
}

export interface SyntheticTcpState {
  readonly id: bigint;
  readonly creatorId: number;
  readonly lan: StateHost;
  readonly ext: StateHost;
  readonly src?: StatePeer;
  readonly dst?: StatePeer;
  /** Age in seconds. */
  readonly creation?: number;
  readonly ifname?: string;
}

/** An outbound, established IPv4 TCP state lan → ext without NAT (gwy = lan). */
export function establishedTcpState(spec: SyntheticTcpState): State {
  return {
    id: spec.id,
    creatorId: spec.creatorId,
    ifname: spec.ifname ?? "self",
    lan: spec.lan,
    gwy: spec.lan,
    ext: spec.ext,
    src: spec.src ?? establishedPeer(1),
    dst: spec.dst ?? establishedPeer(2),
    rtAddr: "0.0.0.0",
    rule: 0xffffffff,
    anchor: 0xffffffff,
    natRule: 0,
    creation: spec.creation ?? 0,
    expire: 0,
    packets: [0, 0],
    bytes: [0, 0],
    af: AF_INET,
    proto: IPPROTO_TCP,
    direction: PF_OUT,
    log: 0,
    allowOpts: 0,
    timeout: TIMEOUT_TCP_ESTABLISHED,
    syncFlags: 0,
    updates: 0,
  };
}

/** Ext (server) addresses of generated states: one per seed, so each seed adds new flows. */
const GENERATED_EXT_NET = "198.51.100.";

/**
 * State `k` of a generator run with `seed` (`pfsyncd states generate`): an
 * established TCP flow 10.a.b.c:port → 198.51.100.(seed % 254 + 1):443 whose
 * lan address and port spell `k` (distinct for 16,777,216 × 64,000 states),
 * with sequence numbers derived from (seed, k). The same (k, seed) always
 * gives the same flow and peers; the id is the caller's.
 */
export function generatedState(k: number, seed: number, id: bigint, creatorId: number): State {
  const mix = Math.imul((k ^ Math.imul(seed, 0x9e3779b1)) >>> 0, 0x85ebca6b) >>> 0;
  const other = (mix ^ 0x5bd1e995) >>> 0;
  return establishedTcpState({
    id,
    creatorId,
    lan: {
      addr: `10.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`,
      port: 1024 + Math.floor(k / 0x1000000) % 64000,
    },
    ext: { addr: `${GENERATED_EXT_NET}${(seed >>> 0) % 254 + 1}`, port: 443 },
    src: establishedPeer(mix, (mix + 65535) >>> 0, 7),
    dst: establishedPeer(other, (other + 65535) >>> 0, 7),
  });
}
