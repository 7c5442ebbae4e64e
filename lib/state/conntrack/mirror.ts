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
 */
import type { CtEntry, CtEventKind } from "../../netlink/ct_types.ts";

import { ctTupleKey, parseCtTupleKey } from "../../netlink/ctnetlink.ts";
import type { ProviderChange } from "../provider.ts";
import type { State } from "../types.ts";
import { type ConntrackFilter, filterEntry } from "./filters.ts";
import { ctToState, mirrorTuple, stateCtKey } from "./mapping.ts";
import type { ConntrackStats } from "./stats.ts";

/**
 * Per announced flow: timing and identity only (≈100 bytes with its key);
 * the tuple lives in the map key (parseCtTupleKey), so a delete can still be
 * built when the kernel no longer has the entry.
 */
interface Announced {
  readonly firstSeen: number;
  readonly at: number;
  readonly timeout: number;
  readonly id: bigint;
  readonly creatorId: number;
  /** What an UPDATE event can change (signature()), to find missed ones after an overrun. */
  readonly sig: number;
}

/** A flow injected for a peer: its identity, and the timeout we gave the kernel and when. */
interface Learned {
  readonly id: bigint;
  readonly creatorId: number;
  readonly at: number;
  readonly timeout: number;
}

export interface MirrorOptions {
  readonly creatorId: number;
  readonly epoch: number;
  readonly filter: ConntrackFilter;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A refreshed timeout is re-announced when it exceeds the expected one by this much. */
  readonly refreshSlackSeconds: number;
}

const keyOf = (entry: CtEntry): string => ctTupleKey(entry.orig!, entry.zone ?? 0);

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

/** TCP state, status bits and mark folded into one number (a changed one means an UPDATE). */
function signature(entry: CtEntry): number {
  const base = ((entry.tcp?.state ?? 15) & 0xf) | (((entry.status ?? 0) & 0xffff) << 4);
  return (base ^ Math.imul(entry.mark ?? 0, 0x9e3779b1)) >>> 0;
}

export class SyncMirror {
  readonly #options: MirrorOptions;
  readonly #stats: ConntrackStats;
  readonly #announced = new Map<string, Announced>();
  readonly #learned = new Map<string, Learned>();

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
    const key = keyOf(entry);
    const now = this.#options.now();
    const previous = this.#announced.get(key);
    const firstSeen = previous?.firstSeen ?? now;
    const start = entry.timestamp?.start;
    const ageSeconds = start !== undefined
      ? Math.max(0, now / 1000 - Number(start / 1_000_000n) / 1000)
      : (now - firstSeen) / 1000;
    let state = ctToState(entry, {
      creatorId: this.#options.creatorId,
      epoch: this.#options.epoch,
      ageSeconds,
    });
    const identity = this.#learned.get(key) ?? previous;
    if (identity) state = { ...state, id: identity.id, creatorId: identity.creatorId };
    else state = { ...state, id: flowId(key, this.#options.epoch, entry.id ?? 0) };
    this.#announced.set(key, {
      firstSeen,
      at: now,
      timeout: state.expire,
      id: state.id,
      creatorId: state.creatorId,
      sig: signature(entry),
    });
    return state;
  }

  /** A NEW/UPDATE/DESTROY event not caused by us. */
  event(kind: CtEventKind, entry: CtEntry): ProviderChange | undefined {
    if (!entry.orig) {
      this.#stats.incomplete++;
      return undefined;
    }
    const key = keyOf(entry);
    if (kind === "destroy") {
      this.#learned.delete(key);
      return this.#withdraw(key, entry);
    }
    const known = this.#announced.has(key);
    const state = this.admit(entry);
    if (state) return { type: known ? "update" : "insert", state };
    // Known but filtered now (e.g. it left the synced TCP states): peers drop it too.
    return known ? this.#withdraw(key, entry) : undefined;
  }

  /**
   * A delete under the identity we announced. Receivers address the entry
   * by (original tuple, zone) and tables by (creatorid, id), so an entry
   * rebuilt from the key (mirrored reply) serves when the kernel's is gone.
   */
  #withdraw(key: string, entry?: CtEntry): ProviderChange | undefined {
    const announced = this.#announced.get(key);
    if (!announced) return undefined;
    this.#announced.delete(key);
    let source = entry;
    if (!source?.reply) {
      const { orig, zone } = parseCtTupleKey(key);
      source = { orig, reply: mirrorTuple(orig), zone: zone || undefined, timeout: 0 };
    }
    const state = ctToState(source, {
      creatorId: announced.creatorId,
      epoch: this.#options.epoch,
      ageSeconds: (this.#options.now() - announced.firstSeen) / 1000,
    });
    return { type: "delete", state: { ...state, id: announced.id } };
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
    const previous = this.#announced.get(key);
    const learned = previous ? undefined : this.#learned.get(key);
    // A peer's flow is its state, not ours to announce (DESIGN rule 5) — unless traffic through
    // this node (we took over) refreshed it beyond what we injected: then the peer needs it back.
    const reference = previous ?? learned;
    if (reference) {
      const expected = reference.timeout - (this.#options.now() - reference.at) / 1000;
      const refreshed = (entry.timeout ?? 0) > expected + this.#options.refreshSlackSeconds;
      // After lost events (force): an UPDATE we missed shows as a changed state, status or mark.
      const changed = force && previous !== undefined && previous.sig !== signature(entry);
      if (!refreshed && !changed) return undefined;
      if (refreshed) this.#stats.refreshed++;
    }
    const state = this.admit(entry);
    if (!state) return previous ? this.#withdraw(key, entry) : undefined;
    if (!reference) this.#stats.repaired++;
    return { type: previous ? "update" : "insert", state };
  }

  /** After a sweep dump: flows we announced that the kernel no longer has (a lost DESTROY). */
  sweepEnd(seen: ReadonlySet<string>): ProviderChange[] {
    const gone: ProviderChange[] = [];
    for (const key of [...this.#announced.keys()]) {
      if (seen.has(key)) continue;
      this.#stats.repaired++;
      const change = this.#withdraw(key);
      if (change) gone.push(change);
    }
    return gone;
  }

  /** Key of a peer state's kernel entry; `exists` = we injected it before. */
  peerKey(state: State): { key: string; exists: boolean } {
    const { orig, zone } = stateCtKey(state);
    const key = ctTupleKey(orig, zone);
    return { key, exists: this.#learned.has(key) };
  }

  /** Record an injected peer state; `timeout` = what the kernel entry got (grace included). */
  learn(key: string, state: State, timeout: number): void {
    const at = this.#options.now();
    this.#learned.set(key, { id: state.id, creatorId: state.creatorId, at, timeout });
  }

  forget(key: string): void {
    this.#learned.delete(key);
    this.#announced.delete(key);
  }
}
