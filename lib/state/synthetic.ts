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
