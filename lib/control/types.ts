/**
 * The data the control socket carries: what `status`, `states` and `watch`
 * return. These are JSON shapes, not the engines' internal types, so the CLI,
 * tests and embedding programs can rely on them while the engines change.
 * Keys listed in issue 5 as stable (carp[].interface/vhid/state/advbase/advskew,
 * pfsync.syncif/syncpeer/maxupd/bulk/stats, demotion, states.count) must not be
 * renamed; new keys may be added.
 */

export type CarpStateName = "INIT" | "BACKUP" | "MASTER";

/** One vhid, as `ifconfig` shows it under its parent interface. */
export interface CarpVhidStatus {
  interface: string;
  vhid: number;
  state: CarpStateName;
  advbase: number;
  advskew: number;
  /** Virtual addresses, CIDR form. */
  addresses?: string[];
  /** Why the vhid is in its state ("master timed out", "preempted by 192.0.2.2"). */
  reason?: string;
}

/** Counters are keyed by their kernel names (`ipackets`, `badttl` …). */
export type Counters = Record<string, number>;

export type BulkPhase = "idle" | "requested" | "receiving" | "done" | "failed";

export interface BulkStatus {
  phase: BulkPhase;
  /** States received during the current (or last) bulk update. */
  statesReceived: number;
  /** Requests sent for the current bulk update (the kernel gives up after 12). */
  tries: number;
  /** Whether CARP preemption is being held back until the bulk update ends. */
  holdingPreemption: boolean;
}

export interface PfsyncStatus {
  syncif: string | null;
  syncpeer: string | null;
  maxupd: number;
  bulk: BulkStatus;
  stats: Counters;
  /** Wall clock (ms since the epoch) when pfsync packets were last received; absent before any. */
  lastReceiveAt?: number;
  /** Loss healing (beyond the BSDs): settings and what waits now. */
  heal?: HealStatus;
}

export interface HealStatus {
  sequence: boolean;
  bulkPurge: boolean;
  repair: boolean;
  /** Packets lost for good that wait for a bulk update. */
  lossPending: number;
  /** Missing packets still waiting for a late arrival or a repair. */
  openHoles: number;
  /** The current wait before a missing packet is NACKed (grows with reordering seen). */
  nackDelayMs: number;
  /** Records queued to send (coalescing or paced). */
  queued: number;
  lastPurged: number;
}

export interface DemotionReason {
  reason: string;
  delta: number;
}

export interface DemotionStatus {
  /** Total demotion added to every vhid's advskew (clamped by the engine). */
  value: number;
  reasons: DemotionReason[];
  maintenance: boolean;
}

export interface StatusResult {
  version: string;
  pid: number;
  /** Seconds since the agent started. */
  uptime: number;
  carp: CarpVhidStatus[];
  carpStats: Counters;
  pfsync: PfsyncStatus;
  demotion: DemotionStatus;
  states: { count: number };
  /** Counters of the conntrack provider (events, filtered.*, apply outcomes …) when it is in use. */
  conntrack?: Counters;
}

/** One side of a TCP/UDP/ICMP state; names as pfctl prints them. */
export interface StatePeerView {
  state: string;
}

/**
 * A state as `states --json` prints it, one per line; `states import`
 * accepts the same shape (plus the minimal {proto, src, dst} form).
 */
export interface StateView {
  /** 16 hex digits, the 64-bit state id. */
  id: string;
  /** 8 hex digits, the creator's host id. */
  creatorid: string;
  ifname: string;
  proto: string;
  /** Endpoints in pfctl form: `192.0.2.10:1234`, `2001:db8::1[80]`. */
  src: string;
  dst: string;
  /** "out" when the state was created by an outgoing packet. */
  direction: "in" | "out";
  srcPeer: StatePeerView;
  dstPeer: StatePeerView;
  /** Seconds since creation and until expiry. */
  age: number;
  expire: number;
  packets: [number, number];
  bytes: [number, number];
  /** "local" or the address of the peer it was learned from. */
  origin: string;
}

export type WatchEvent =
  | {
    type: "state";
    ts: string;
    action: "insert" | "update" | "delete";
    origin: string;
    state: StateView;
  }
  | {
    type: "carp";
    ts: string;
    interface: string;
    vhid: number;
    from: CarpStateName;
    to: CarpStateName;
    reason: string;
  }
  | { type: "demotion"; ts: string; value: number; reason: string }
  | { type: "bulk"; ts: string; phase: BulkPhase; statesReceived: number }
  /** This watcher fell behind and `dropped` events were not sent to it. */
  | { type: "overflow"; ts: string; dropped: number };
