/**
 * Linux conntrack TCP state ⇄ pf per-peer TCP states and timeout index
 * (spec conntrack-netlink.md §4.3). Linux keeps one state for the whole
 * connection plus per-direction flags; pf keeps one BSD TCPS_* level per
 * peer. The maps are engineering approximations (spec U7): they make `pfctl
 * -s state`-style output and a real pf receiver sensible, while LX1 carries
 * the exact Linux state in a pad byte for Linux receivers.
 */
import { IP_CT_TCP_FLAG, TCP_CONNTRACK as CT } from "../../netlink/ct_constants.ts";

/** BSD TCPS_* levels used by the maps. */
export const TCPS = {
  CLOSED: 0,
  SYN_SENT: 2,
  ESTABLISHED: 4,
  CLOSING: 7,
  FIN_WAIT_2: 9,
  TIME_WAIT: 10,
} as const;

/** pf timeout indexes (PFTM_*) chosen per protocol and state. */
export const PFTM = {
  TCP_FIRST_PACKET: 0,
  TCP_OPENING: 1,
  TCP_ESTABLISHED: 2,
  TCP_CLOSING: 3,
  TCP_FIN_WAIT: 4,
  TCP_CLOSED: 5,
  UDP_FIRST_PACKET: 6,
  UDP_SINGLE: 7,
  UDP_MULTIPLE: 8,
  ICMP_FIRST_PACKET: 9,
  OTHER_SINGLE: 12,
  OTHER_MULTIPLE: 13,
} as const;

/**
 * Per ct state: [closer side's pf state, other side's pf state, pf timeout].
 * "Closer" = the direction whose flags carry CLOSE_INIT (the side that sent
 * the first FIN); before any FIN it is simply the original direction.
 */
const CT_TO_PF: readonly (readonly [number, number, number])[] = [
  /* NONE        */ [TCPS.CLOSED, TCPS.CLOSED, PFTM.TCP_FIRST_PACKET],
  /* SYN_SENT    */ [TCPS.SYN_SENT, TCPS.CLOSED, PFTM.TCP_FIRST_PACKET],
  /* SYN_RECV    */ [TCPS.ESTABLISHED, TCPS.SYN_SENT, PFTM.TCP_OPENING],
  /* ESTABLISHED */ [TCPS.ESTABLISHED, TCPS.ESTABLISHED, PFTM.TCP_ESTABLISHED],
  /* FIN_WAIT    */ [TCPS.CLOSING, TCPS.ESTABLISHED, PFTM.TCP_CLOSING],
  /* CLOSE_WAIT  */ [TCPS.FIN_WAIT_2, TCPS.ESTABLISHED, PFTM.TCP_FIN_WAIT],
  /* LAST_ACK    */ [TCPS.FIN_WAIT_2, TCPS.CLOSING, PFTM.TCP_FIN_WAIT],
  /* TIME_WAIT   */ [TCPS.FIN_WAIT_2, TCPS.FIN_WAIT_2, PFTM.TCP_CLOSED],
  /* CLOSE       */ [TCPS.TIME_WAIT, TCPS.TIME_WAIT, PFTM.TCP_CLOSED],
  /* SYN_SENT2   */ [TCPS.SYN_SENT, TCPS.SYN_SENT, PFTM.TCP_OPENING],
];

export interface PfTcpView {
  readonly src: number;
  readonly dst: number;
  readonly timeout: number;
}

/**
 * ct state → pf peer states (`src` = original direction, `dst` = reply) and
 * timeout index. Unknown states read as NONE.
 */
export function ctTcpToPf(state: number, flagsOriginal = 0, flagsReply = 0): PfTcpView {
  const [closer, other, timeout] = CT_TO_PF[state] ?? CT_TO_PF[CT.NONE];
  const replyClosedFirst = (flagsReply & IP_CT_TCP_FLAG.CLOSE_INIT) !== 0 &&
    (flagsOriginal & IP_CT_TCP_FLAG.CLOSE_INIT) === 0;
  return replyClosedFirst
    ? { src: other, dst: closer, timeout }
    : { src: closer, dst: other, timeout };
}

/** pf peer states → one ct state, first matching row of §4.3 (order matters). */
export function pfTcpToCt(srcState: number, dstState: number): number {
  const a = Math.max(srcState, dstState);
  const b = Math.min(srcState, dstState);
  if (a === TCPS.TIME_WAIT && b === TCPS.TIME_WAIT) return CT.CLOSE;
  if (b >= TCPS.FIN_WAIT_2) return CT.TIME_WAIT;
  if (a >= TCPS.FIN_WAIT_2 && b === TCPS.CLOSING) return CT.LAST_ACK;
  if (a >= TCPS.FIN_WAIT_2) return CT.CLOSE_WAIT;
  if (a === TCPS.CLOSING) return CT.FIN_WAIT;
  if (b >= TCPS.ESTABLISHED) return CT.ESTABLISHED;
  if (a === TCPS.SYN_SENT && b === TCPS.SYN_SENT) return CT.SYN_SENT2;
  if (a >= TCPS.ESTABLISHED) return CT.SYN_RECV;
  if (a === TCPS.SYN_SENT) return CT.SYN_SENT;
  return CT.NONE;
}

/** Peer levels of connectionless protocols (pf's PFUDPS_* / PFOTHERS_*). */
export const PEER = { NO_TRAFFIC: 0, SINGLE: 1, MULTIPLE: 2 } as const;

/** Timeout index for non-TCP protocols from "was a reply seen". */
export function pfTimeoutFor(proto: number, seenReply: boolean): number {
  if (proto === 17) return seenReply ? PFTM.UDP_MULTIPLE : PFTM.UDP_SINGLE;
  if (proto === 1 || proto === 58) return PFTM.ICMP_FIRST_PACKET;
  return seenReply ? PFTM.OTHER_MULTIPLE : PFTM.OTHER_SINGLE;
}
