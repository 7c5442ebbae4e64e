/**
 * What this node has told its peers about the local conntrack table, and
 * which flows it injected for them. Pure bookkeeping (no sockets, clock
 * injected): the provider feeds it events and dump entries and forwards the
 * ProviderChanges it returns.
 *
 * - `announced`: flows we reported, with the timeout we reported and when,
 *   so a sweep can tell a timeout refreshed by traffic (no event for that,
 *   spec rule 17) from one that is just running down, and so a DESTROY — or
 *   its absence from a dump — can be turned into a delete of the same State.
 * - `learned`: flows injected from peers, keyed like the kernel does
 *   (original tuple, zone), with the identity they arrived under and the
 *   timeout we injected. A dump never re-announces them (DESIGN rule 5)
 *   unless their timeout grew beyond what we injected — local traffic, i.e.
 *   we carry the flow since a takeover, and the old master needs the
 *   refreshes or the flow dies on failback. Local changes are reported under
 *   the peer's identity so both tables keep one state per flow.
 *
 * A sweep never withdraws on its own word: a ctnetlink dump is not a
 * snapshot, and an entry that moves while the dump runs can be left out of
 * it. A flow the dump did not show becomes a *suspect*; the shell asks the
 * kernel for its tuple (GET) and reports the answer with `confirm` — only
 * ENOENT withdraws it. Any event or later sighting clears the suspicion.
 *
 *   sweepEnd → suspects ─ GET ─▶ drain events ─▶ confirm(key, verdict)
 *                                                  present → kept (sweepMissed)
 *                                                  absent  → withdrawn (repaired)
 *                                                  unknown → kept; withdrawn once
 *                                                            missed by 2 sweeps
 *
 * Accounting: `repaired` counts only what events really failed to tell —
 * a withdrawal the kernel confirmed and no DESTROY explained, and an entry
 * the dump announced that no event had announced by `settle` (after the
 * sweep, its confirmations and a final event drain). An entry created while
 * a sliced dump ran is seen before its NEW event is read: that event then
 * claims it (`sweepRaced`) and is not sent again — the dump's copy is the
 * newer one.
 */
import type { CtEntry, CtEventKind, CtTuple } from "../../netlink/ct_types.ts";

import { ctFlowKey, parseCtFlowKey } from "../../netlink/ctnetlink_key.ts";
import type { ProviderChange } from "../provider.ts";
import type { State } from "../types.ts";
import { type ConntrackFilter, filterEntry } from "./filters.ts";
import { FlowStore } from "./flow_store.ts";
import { stateFlowKey } from "./lx1_fast.ts";
import { ctToState, mirrorTuple } from "./mapping.ts";
import type { ConntrackStats } from "./stats.ts";

/*
 * Per announced flow (FlowStore columns): when first seen and last
 * announced, the timeout announced, the identity, and signature() — what an
 * UPDATE event can change, to find missed ones after an overrun. The tuple
 * lives in the key (parseCtFlowKey), so a delete can still be built when the
 * kernel no longer has the entry. Per learned flow: the identity it arrived
 * under, and the timeout we gave the kernel and when.
 */

export interface MirrorOptions {
  readonly creatorId: number;
  readonly epoch: number;
  readonly filter: ConntrackFilter;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A refreshed timeout is re-announced when it exceeds the expected one by this much. */
  readonly refreshSlackSeconds: number;
}

/** Map key of an entry: the compact (original tuple, zone) key (ctnetlink_key.ts). */
const keyOf = (entry: CtEntry): string => ctFlowKey(entry.orig!, entry.zone ?? 0);

/**
 * A new flow's 64-bit pfsync id: CTA_ID in the low half (LX1 id[1], for logging) and, in the
 * high half, the boot epoch mixed with a hash of the (tuple, zone) key. CTA_ID alone is a 32-bit
 * hash, and among 100 000 entries two share one about as often as not (birthday bound
 * n²/2³³ ≈ 1.2) — peers would drop the second as a collision. Both halves are stable for the
 * entry's life, so an agent restart gives every entry the id it had before.
 */
export function flowId(key: string, epoch: number, ctaId: number): bigint {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (BigInt((h ^ epoch) >>> 0) << 32n) | BigInt(ctaId >>> 0);
}

const HEX = [..."0123456789abcdef"].map((c) => c.charCodeAt(0));
const SLASH = 0x2f;
const FNV_PRIME = 0x01000193;

function fnvDecimal(h: number, value: number | undefined): number {
  if (value === undefined) return h;
  let divisor = 1;
  while (divisor * 10 <= value) divisor *= 10;
  for (; divisor >= 1; divisor /= 10) {
    h = Math.imul(h ^ (0x30 + (Math.floor(value / divisor) % 10)), FNV_PRIME);
  }
  return h;
}

function fnvHex(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ HEX[bytes[i] >> 4], FNV_PRIME);
    h = Math.imul(h ^ HEX[bytes[i] & 15], FNV_PRIME);
  }
  return h;
}

const idWords = new Uint32Array(2);
const idValue = new BigUint64Array(idWords.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `flowId(ctTupleKey(orig, zone), epoch, ctaId)` without building the key
 * text: the same FNV-1a over the same characters, streamed (one per new flow
 * on the event path).
 */
export function flowIdOf(orig: CtTuple, zone: number, epoch: number, ctaId: number): bigint {
  let h = 0x811c9dc5;
  h = Math.imul(fnvDecimal(h, zone) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvDecimal(h, orig.proto) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvHex(h, orig.src) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvHex(h, orig.dst) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvDecimal(h, orig.srcPort) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvDecimal(h, orig.dstPort) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvDecimal(h, orig.icmpId) ^ SLASH, FNV_PRIME);
  h = Math.imul(fnvDecimal(h, orig.icmpType) ^ SLASH, FNV_PRIME);
  h = fnvDecimal(h, orig.icmpCode);
  idWords[LITTLE ? 1 : 0] = (h ^ epoch) >>> 0;
  idWords[LITTLE ? 0 : 1] = ctaId >>> 0;
  return idValue[0];
}

/** TCP state, status bits and mark folded into one number (a changed one means an UPDATE). */
function signature(entry: CtEntry): number {
  const base = ((entry.tcp?.state ?? 15) & 0xf) | (((entry.status ?? 0) & 0xffff) << 4);
  return (base ^ Math.imul(entry.mark ?? 0, 0x9e3779b1)) >>> 0;
}

export class SyncMirror {
  readonly #options: MirrorOptions;
  readonly #stats: ConntrackStats;
  readonly #announced = new FlowStore();
  readonly #learned = new FlowStore();
  /** Announced flows missing from a sweep, awaiting the kernel's word: key → sweeps missed. */
  readonly #suspects = new Map<string, number>();
  /** Flows a sweep dump announced that no event has announced yet (see `settle`). */
  readonly #dumpFound = new Set<string>();
  /**
   * Flows that left the kernel while a sweep runs (between `sweepBegin` and
   * `settle`): a DESTROY event, or a peer's delete we applied (whose event is
   * our own and filtered). A dump part built before they went must not bring
   * them back.
   */
  #goneInSweep: Set<string> | undefined;

  constructor(options: MirrorOptions, stats: ConntrackStats) {
    this.#options = options;
    this.#stats = stats;
  }

  get announcedCount(): number {
    return this.#announced.size;
  }

  get learnedCount(): number {
    return this.#learned.size;
  }

  /** Filter and map an entry; on "sync" record it as announced and return its State. */
  admit(entry: CtEntry): State | undefined {
    if (!entry.orig) {
      this.#stats.incomplete++;
      return undefined;
    }
    const key = keyOf(entry);
    return this.#admit(entry, key, this.#announced.slot(key));
  }

  /** `admit` for callers that have the key and the announced slot (-1: none) at hand. */
  #admit(entry: CtEntry, key: string, previous: number): State | undefined {
    if (!entry.orig || !entry.reply) {
      this.#stats.incomplete++;
      return undefined;
    }
    const verdict = filterEntry(this.#options.filter, entry);
    if (verdict !== "sync") {
      this.#stats.filtered++;
      this.#stats.filteredBy[verdict] = (this.#stats.filteredBy[verdict] ?? 0) + 1;
      return undefined;
    }
    const a = this.#announced;
    const now = this.#options.now();
    const firstSeen = previous >= 0 ? a.firstSeen[previous] : now;
    const start = entry.timestamp?.start;
    const ageSeconds = start !== undefined
      ? Math.max(0, now / 1000 - Number(start / 1_000_000n) / 1000)
      : (now - firstSeen) / 1000;
    // Identity: a learned flow keeps the peer's, an announced one its own, a new one gets one.
    const learned = this.#learned.size > 0 ? this.#learned.slot(key) : -1;
    let id: bigint;
    let creatorId: number;
    if (learned >= 0) {
      id = this.#learned.id[learned];
      creatorId = this.#learned.creatorId[learned];
    } else if (previous >= 0) {
      id = a.id[previous];
      creatorId = a.creatorId[previous];
    } else {
      id = flowIdOf(entry.orig, entry.zone ?? 0, this.#options.epoch, entry.id ?? 0);
      creatorId = this.#options.creatorId;
    }
    const state = ctToState(entry, { creatorId, epoch: this.#options.epoch, ageSeconds, id });
    const slot = previous >= 0 ? previous : a.add(key);
    a.firstSeen[slot] = firstSeen;
    a.at[slot] = now;
    a.timeout[slot] = state.expire;
    a.id[slot] = state.id;
    a.creatorId[slot] = state.creatorId;
    a.sig[slot] = signature(entry);
    return state;
  }

  /** A NEW/UPDATE/DESTROY event not caused by us. */
  event(kind: CtEventKind, entry: CtEntry): ProviderChange | undefined {
    if (!entry.orig) {
      this.#stats.incomplete++;
      return undefined;
    }
    const key = keyOf(entry);
    if (this.#suspects.size > 0) this.#suspects.delete(key);
    let raced = false;
    if (this.#dumpFound.size > 0 && this.#dumpFound.delete(key)) {
      // The event stream knew this flow after all: the sweep only got there first.
      this.#stats.sweepRaced++;
      raced = true;
    }
    if (kind === "destroy") {
      this.#learned.delete(key);
      this.#goneInSweep?.add(key);
      return this.#withdraw(key, entry);
    }
    // The dump read the entry after it was created: its announcement is the newer one.
    if (raced && kind === "new") return undefined;
    const previous = this.#announced.slot(key);
    const state = this.#admit(entry, key, previous);
    if (state) return { type: previous >= 0 ? "update" : "insert", state };
    // Known but filtered now (e.g. it left the synced TCP states): peers drop it too.
    return previous >= 0 ? this.#withdraw(key, entry) : undefined;
  }

  /**
   * A delete under the identity we announced. Receivers address the entry
   * by (original tuple, zone) and tables by (creatorid, id), so an entry
   * rebuilt from the key (mirrored reply) serves when the kernel's is gone.
   */
  #withdraw(key: string, entry?: CtEntry): ProviderChange | undefined {
    const a = this.#announced;
    const slot = a.slot(key);
    if (slot < 0) return undefined;
    const id = a.id[slot];
    const creatorId = a.creatorId[slot];
    const firstSeen = a.firstSeen[slot];
    a.delete(key);
    let source = entry;
    if (!source?.reply) {
      const { orig, zone } = parseCtFlowKey(key);
      source = { orig, reply: mirrorTuple(orig), zone: zone || undefined, timeout: 0 };
    }
    const state = ctToState(source, {
      creatorId,
      epoch: this.#options.epoch,
      ageSeconds: (this.#options.now() - firstSeen) / 1000,
      id,
    });
    return { type: "delete", state };
  }

  /**
   * One entry of a sweep dump: announce it if it is new to us, or if traffic
   * refreshed its timeout beyond what the peers were told, or — with `force`,
   * after lost events — if its TCP state, status or mark differ from what we
   * announced (a missed UPDATE). Unchanged entries are not re-sent, so a
   * resync costs what was lost, not the whole table. `seen` collects keys
   * for `sweepEnd`.
   */
  sweepEntry(entry: CtEntry, force: boolean, seen: Set<string>): ProviderChange | undefined {
    if (!entry.orig) return undefined;
    const key = keyOf(entry);
    seen.add(key);
    const previous = this.#announced.slot(key);
    const learned = previous >= 0 ? -1 : this.#learned.slot(key);
    // A peer's flow is its state, not ours to announce (DESIGN rule 5) — unless traffic through
    // this node (we took over) refreshed it beyond what we injected: then the peer needs it back.
    const store = previous >= 0 ? this.#announced : learned >= 0 ? this.#learned : undefined;
    const reference = previous >= 0 ? previous : learned;
    if (store) {
      const expected = store.timeout[reference] -
        (this.#options.now() - store.at[reference]) / 1000;
      const refreshed = (entry.timeout ?? 0) > expected + this.#options.refreshSlackSeconds;
      // After lost events (force): an UPDATE we missed shows as a changed state, status or mark.
      const changed = force && previous >= 0 && this.#announced.sig[previous] !== signature(entry);
      if (!refreshed && !changed) return undefined;
      if (refreshed) this.#stats.refreshed++;
    }
    if (!store && this.#goneInSweep?.has(key)) {
      // It went while this dump ran: the dump's copy may predate that (a part queued before
      // the entry went). If it lives again, its NEW event (or the peer's insert) says so.
      this.#stats.sweepRaced++;
      return undefined;
    }
    const state = this.#admit(entry, key, previous);
    if (!state) return previous >= 0 ? this.#withdraw(key, entry) : undefined;
    // New to us: a lost NEW, or one created while the dump ran whose event is still queued.
    if (!store) this.#dumpFound.add(key);
    return { type: previous >= 0 ? "update" : "insert", state };
  }

  /** A sweep's dump is about to be read (events are read between its slices). */
  sweepBegin(): void {
    this.#goneInSweep = new Set();
  }

  /**
   * After a sweep dump: announced flows it did not show become suspects (a
   * lost DESTROY, or a dump that skipped a live entry); returns the keys to
   * look up in the kernel. `startedAt` (ms, the mirror's clock) is when a
   * dump read in slices began: flows first seen since then are not judged by
   * it. Suspects the dump did show are cleared.
   */
  sweepEnd(seen: ReadonlySet<string>, startedAt = Infinity): string[] {
    for (const key of this.#suspects.keys()) {
      if (seen.has(key) || !this.#announced.has(key)) this.#suspects.delete(key);
    }
    const suspects: string[] = [];
    const a = this.#announced;
    for (const [key, slot] of a.entries()) {
      if (seen.has(key)) continue;
      // A flow first announced after a sliced sweep began may be new after the dump passed it.
      if (a.firstSeen[slot] >= startedAt) continue;
      this.#suspects.set(key, (this.#suspects.get(key) ?? 0) + 1);
      suspects.push(key);
    }
    return suspects;
  }

  /** Still waiting for the kernel's word (no event or sighting cleared it meanwhile). */
  isSuspect(key: string): boolean {
    return this.#suspects.has(key);
  }

  get suspectCount(): number {
    return this.#suspects.size;
  }

  /**
   * The kernel's answer for a suspect, read after the events queued before
   * it were drained: `absent` (GET said ENOENT) withdraws it; `present` keeps
   * it (the dump missed a live entry); `unknown` (the GET failed) keeps it
   * unless two sweeps in a row missed it. A suspect an event cleared since is
   * left alone — the event said what happened.
   */
  confirm(key: string, verdict: "present" | "absent" | "unknown"): ProviderChange | undefined {
    const strikes = this.#suspects.get(key);
    if (strikes === undefined) return undefined;
    if (verdict === "present") {
      this.#suspects.delete(key);
      this.#stats.sweepMissed++;
      return undefined;
    }
    if (verdict === "unknown" && strikes < 2) return undefined;
    this.#suspects.delete(key);
    const change = this.#withdraw(key);
    if (change) this.#stats.repaired++;
    return change;
  }

  /**
   * After a sweep, its confirmations and a final drain of the event socket:
   * flows the dump announced that no event announced either were really
   * missed by the event stream (a lost NEW) — those are the repairs.
   */
  settle(): void {
    for (const key of this.#dumpFound) {
      if (this.#announced.has(key)) this.#stats.repaired++;
    }
    this.#dumpFound.clear();
    this.#goneInSweep = undefined;
  }

  /** Key of a peer state's kernel entry; `exists` = we injected it before. */
  peerKey(state: State): { key: string; exists: boolean } {
    const key = stateFlowKey(state);
    return { key, exists: this.#learned.has(key) };
  }

  /** Record an injected peer state; `timeout` = what the kernel entry got (grace included). */
  learn(key: string, state: State, timeout: number): void {
    const l = this.#learned;
    const slot = l.add(key);
    l.id[slot] = state.id;
    l.creatorId[slot] = state.creatorId;
    l.at[slot] = this.#options.now();
    l.timeout[slot] = timeout;
  }

  /** A peer's delete, applied to the kernel. */
  forget(key: string): void {
    this.#goneInSweep?.add(key);
    this.#learned.delete(key);
    this.#announced.delete(key);
    this.#suspects.delete(key);
    this.#dumpFound.delete(key);
  }
}
