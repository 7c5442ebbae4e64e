/**
 * StateTable: every known state, keyed by (creatorid, id) and by flow
 * (af, proto, lan, ext — pf's lan/ext tree key). Each state is stored as its
 * 224-byte pfsync record in a RecordSlab (slab.ts) plus 11 bytes of metadata,
 * with two Int32Array hash indexes (index.ts); State objects are built only when asked for. The
 * table emits insert/update/delete events tagged with their origin so the
 * pfsync sender can announce local changes and never echo learned ones.
 */
import {
  decodeStateRecord,
  encodePeer,
  encodeStateRecord,
  OFF,
  STATE_RECORD_SIZE,
} from "./record.ts";
import { writePfAddr } from "./addr.ts";
import { SlotIndex } from "./index.ts";
import { offsetOf, RecordSlab } from "./slab.ts";
import { flowEqual, flowHash, hashId, idHash, sameId } from "./keys.ts";
import type { State, StateKey, StatePeer } from "./types.ts";
import { timeoutSeconds } from "./types.ts";

export type Origin = "local" | { readonly peer: string };

export type TableEvent =
  | { readonly type: "insert"; readonly state: State; readonly origin: Origin }
  | {
    readonly type: "update";
    readonly state: State;
    readonly origin: Origin;
    /** A field a compressed update (UPD_C) does not carry changed: send it in full. */
    readonly full?: boolean;
  }
  | { readonly type: "delete"; readonly state: State; readonly origin: Origin };

export type TableListener = (event: TableEvent) => void;

/** What an update from the network may change (pf overwrites exactly these). */
export interface StatePatch {
  readonly src?: StatePeer;
  readonly dst?: StatePeer;
  readonly timeout?: number;
  readonly expire?: number;
  readonly packets?: readonly [number, number];
  readonly bytes?: readonly [number, number];
  /** Carried by full updates only: under LX1 the conntrack mark, status and zone. */
  readonly rule?: number;
  readonly anchor?: number;
  readonly natRule?: number;
  readonly log?: number;
}

export interface FlowKey {
  readonly af: number;
  readonly proto: number;
  readonly lan: { readonly addr: string; readonly port: number };
  readonly ext: { readonly addr: string; readonly port: number };
}

export interface StateTableOptions {
  /** Milliseconds; the table converts to whole seconds like pf's time_second. */
  readonly now?: () => number;
  readonly initialCapacity?: number;
}

export class StateTable {
  private readonly clock: () => number;
  private readonly slab: RecordSlab;
  private purgeCursor = 0;
  /** Current refresh epoch (1–0xffff) and how often it wrapped; see beginEpoch(). */
  private epoch = 1;
  private epochGeneration = 0;
  private readonly idIndex: SlotIndex;
  private readonly flowIndex: SlotIndex;
  private readonly peers: string[] = [];
  private readonly peerIndex = new Map<string, number>();
  private readonly listeners = new Set<TableListener>();
  private readonly scratch = new Uint8Array(STATE_RECORD_SIZE);
  private readonly scratchView = new DataView(this.scratch.buffer);
  // Index callbacks made once, not per call: inserts run a million times a bulk update.
  private readonly scratchIdMatches = (s: number) =>
    sameId(this.scratch, 0, this.slab.chunkOf(s), offsetOf(s));
  private readonly scratchFlowMatches = (s: number) =>
    flowEqual(this.scratch, 0, this.slab.chunkOf(s), offsetOf(s));
  private readonly idHashOfSlot = (s: number) => this.idHashAt(s);
  private readonly flowHashOfSlot = (s: number) => flowHash(this.slab.viewOf(s), offsetOf(s));
  /** The key slotOf() is looking for, read by keyMatches. */
  private keyHi = 0;
  private keyLo = 0;
  private keyCreator = 0;
  private readonly keyMatches = (s: number) => {
    const view = this.slab.viewOf(s);
    const o = offsetOf(s);
    return view.getUint32(o + 4) === this.keyLo && view.getUint32(o) === this.keyHi &&
      view.getUint32(o + OFF.creatorId) === this.keyCreator;
  };

  constructor(options: StateTableOptions = {}) {
    this.clock = options.now ?? Date.now;
    const capacity = Math.max(16, options.initialCapacity ?? 1024);
    this.slab = new RecordSlab(capacity);
    // Both indexes hold every used slot, so a rebuild walks the slab in order.
    const liveSlots = (visit: (slot: number) => void) => this.slab.forEachUsed(visit);
    this.idIndex = new SlotIndex(capacity, liveSlots);
    this.flowIndex = new SlotIndex(capacity, liveSlots);
  }

  get size(): number {
    return this.idIndex.size;
  }

  /** Bytes held by slabs, metadata and indexes (for the memory benchmark). */
  get byteLength(): number {
    return this.slab.byteLength + this.idIndex.byteLength + this.flowIndex.byteLength;
  }

  on(listener: TableListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  has(key: StateKey): boolean {
    return this.slotOf(key) >= 0;
  }

  get(key: StateKey): State | undefined {
    const slot = this.slotOf(key);
    return slot < 0 ? undefined : this.materialise(slot);
  }

  originOf(key: StateKey): Origin | undefined {
    const slot = this.slotOf(key);
    return slot < 0 ? undefined : this.originAt(slot);
  }

  /** Seconds since the state's last activity (0 when it lies in the future). */
  idleSeconds(key: StateKey): number | undefined {
    const slot = this.slotOf(key);
    return slot < 0 ? undefined : Math.max(0, this.nowSeconds() - this.slab.lastActive[slot]);
  }

  findFlow(flow: FlowKey): State | undefined {
    const b = this.scratch;
    b.fill(0);
    b[OFF.af] = flow.af;
    b[OFF.proto] = flow.proto;
    if (!writePfAddr(flow.lan.addr, b, OFF.lan) || !writePfAddr(flow.ext.addr, b, OFF.ext)) {
      return undefined;
    }
    this.scratchView.setUint16(OFF.lan + 16, flow.lan.port);
    this.scratchView.setUint16(OFF.ext + 16, flow.ext.port);
    const slot = this.flowIndex.find(
      flowHash(this.scratchView, 0),
      this.scratchFlowMatches,
    );
    return slot < 0 ? undefined : this.materialise(slot);
  }

  /**
   * Adds a state; false (and no event) when its key or flow already exists.
   * `record`, when given, is the 224-byte wire form `state` was decoded from:
   * it is copied instead of re-encoding addresses and peers, and only the
   * scalar fields a receiver may have changed (counters, flags) are taken
   * from `state`.
   */
  insert(state: State, origin: Origin, record?: Uint8Array): boolean {
    if (record && record.length === STATE_RECORD_SIZE) {
      const v = this.scratchView;
      this.scratch.set(record);
      v.setUint32(OFF.packets0, state.packets[0] >>> 0);
      v.setUint32(OFF.packets1, state.packets[1] >>> 0);
      v.setUint32(OFF.bytes0, state.bytes[0] >>> 0);
      v.setUint32(OFF.bytes1, state.bytes[1] >>> 0);
      this.scratch[OFF.syncFlags] = state.syncFlags;
    } else {
      encodeStateRecord(state, this.scratch, 0, this.scratchView);
    }
    return this.commitScratch(origin, state, state.creation, state.expire);
  }

  /**
   * Adds a state given as its 224-byte wire record, stored as it is (the
   * caller clears what it must not import: counters, flags) — no State
   * object is built unless a listener reads the event's `state`. False when
   * its key or flow already exists.
   */
  insertRecord(record: Uint8Array, origin: Origin): boolean {
    if (record.length !== STATE_RECORD_SIZE) {
      throw new RangeError(
        `a pfsync_state record has ${STATE_RECORD_SIZE} bytes, not ${record.length}`,
      );
    }
    this.scratch.set(record);
    const v = this.scratchView;
    return this.commitScratch(
      origin,
      undefined,
      v.getUint32(OFF.creation),
      v.getUint32(OFF.expire),
    );
  }

  /** Stores the record in `scratch` unless its key or flow is taken; emits the insert. */
  private commitScratch(
    origin: Origin,
    state: State | undefined,
    creation: number,
    expire: number,
  ): boolean {
    // Key check from the encoded bytes: no bigint arithmetic on the hot path.
    if (this.idIndex.find(idHash(this.scratchView, 0), this.scratchIdMatches) >= 0) return false;
    const flow = flowHash(this.scratchView, 0);
    if (this.flowIndex.find(flow, this.scratchFlowMatches) >= 0) return false;
    const slot = this.slab.allocate();
    const chunk = this.slab.chunkOf(slot);
    const offset = offsetOf(slot);
    chunk.set(this.scratch, offset);
    const view = this.slab.viewOf(slot);
    view.setUint32(offset + OFF.creation, 0);
    view.setUint32(offset + OFF.expire, 0);
    chunk[offset + OFF.updates] = 0;
    const now = this.nowSeconds();
    this.slab.created[slot] = Math.max(0, now - creation);
    this.slab.lastActive[slot] = now + expire;
    this.slab.origins[slot] = this.originCode(origin);
    this.slab.marks[slot] = this.epoch;
    this.idIndex.add(idHash(view, offset), slot, this.idHashOfSlot);
    this.flowIndex.add(flow, slot, this.flowHashOfSlot);
    if (this.listeners.size === 0) return true;
    // Without a State (a record from the wire), one is built only if a listener asks:
    // most skip peer-origin events unread.
    this.emit(state ? { type: "insert", state, origin } : new LazyInsert(this, slot, origin));
    return true;
  }

  /** @internal The State in `slot` now (LazyInsert's getter). */
  stateOfSlot(slot: number): State {
    return this.materialise(slot);
  }

  /** Applies pf's in-place update (peers, timeout, last activity, counters). */
  patch(key: StateKey, patch: StatePatch, origin: Origin): State | undefined {
    const slot = this.slotOf(key);
    if (slot < 0) return undefined;
    const chunk = this.slab.chunkOf(slot);
    const view = this.slab.viewOf(slot);
    const o = offsetOf(slot);
    if (patch.src) encodePeer(patch.src, view, chunk, o + OFF.src);
    if (patch.dst) encodePeer(patch.dst, view, chunk, o + OFF.dst);
    if (patch.timeout !== undefined) chunk[o + OFF.timeout] = patch.timeout;
    if (patch.rule !== undefined) view.setUint32(o + OFF.rule, patch.rule >>> 0);
    if (patch.anchor !== undefined) view.setUint32(o + OFF.anchor, patch.anchor >>> 0);
    if (patch.natRule !== undefined) view.setUint32(o + OFF.natRule, patch.natRule >>> 0);
    if (patch.log !== undefined) chunk[o + OFF.log] = patch.log;
    if (patch.packets) {
      view.setUint32(o + OFF.packets0, patch.packets[0] >>> 0);
      view.setUint32(o + OFF.packets1, patch.packets[1] >>> 0);
    }
    if (patch.bytes) {
      view.setUint32(o + OFF.bytes0, patch.bytes[0] >>> 0);
      view.setUint32(o + OFF.bytes1, patch.bytes[1] >>> 0);
    }
    this.slab.lastActive[slot] = this.nowSeconds() + (patch.expire ?? 0);
    this.slab.origins[slot] = this.originCode(origin);
    this.slab.marks[slot] = this.epoch;
    const state = this.materialise(slot);
    this.emit({ type: "update", state, origin });
    return state;
  }

  /** Replaces every field of a known state (local provider updates); false if unknown. */
  replace(state: State, origin: Origin): boolean {
    const slot = this.slotOf(state);
    if (slot < 0) return false;
    const view = this.slab.viewOf(slot);
    const o = offsetOf(slot);
    const oldFlow = flowHash(view, o);
    // Encode aside first: a state that cannot be encoded must not half-overwrite the slot.
    encodeStateRecord(state, this.scratch, 0, this.scratchView);
    const full = changesBeyondCompressed(this.slab.chunkOf(slot), o, this.scratch);
    this.slab.chunkOf(slot).set(this.scratch, o);
    view.setUint32(o + OFF.creation, 0);
    view.setUint32(o + OFF.expire, 0);
    this.slab.chunkOf(slot)[o + OFF.updates] = 0;
    const newFlow = flowHash(view, o);
    if (newFlow !== oldFlow) {
      this.flowIndex.remove(oldFlow, slot);
      this.flowIndex.add(
        newFlow,
        slot,
        this.flowHashOfSlot,
      );
    }
    const now = this.nowSeconds();
    this.slab.created[slot] = Math.max(0, now - state.creation);
    this.slab.lastActive[slot] = now + state.expire;
    this.slab.origins[slot] = this.originCode(origin);
    this.slab.marks[slot] = this.epoch;
    this.emit(full ? { type: "update", state, origin, full } : { type: "update", state, origin });
    return true;
  }

  delete(key: StateKey, origin: Origin): State | undefined {
    const slot = this.slotOf(key);
    if (slot < 0) return undefined;
    const state = this.materialise(slot);
    this.release(slot);
    this.emit({ type: "delete", state, origin });
    return state;
  }

  /**
   * Removes states idle longer than their pf timeout, as pf's purge thread
   * does; removals are local events, so pfsync announces them (pf sends a
   * DEL_C for every expiring state). Walks at most `budget` slots from where
   * the previous call stopped, so a large table is purged in slices.
   */
  purgeExpired(budget = Infinity): number {
    const now = this.nowSeconds();
    let removed = 0;
    for (let visited = 0; visited < budget && visited < this.slab.highWater; visited++) {
      if (this.purgeCursor >= this.slab.highWater) this.purgeCursor = 0;
      const slot = this.purgeCursor++;
      if (!this.slab.inUse[slot]) continue;
      const limit = timeoutSeconds(this.slab.chunkOf(slot)[offsetOf(slot) + OFF.timeout]);
      if (limit === 0 || now - this.slab.lastActive[slot] <= limit) continue;
      const state = this.materialise(slot);
      this.release(slot);
      this.emit({ type: "delete", state, origin: "local" });
      removed++;
    }
    return removed;
  }

  /** CLR: removes the states of one creator, optionally only those bound to `ifname`. */
  clearCreator(creatorId: number, ifname: string, origin: Origin): number {
    let removed = 0;
    for (let slot = 0; slot < this.slab.highWater; slot++) {
      if (!this.slab.inUse[slot]) continue;
      const view = this.slab.viewOf(slot);
      const o = offsetOf(slot);
      if (view.getUint32(o + OFF.creatorId) !== creatorId >>> 0) continue;
      const state = this.materialise(slot);
      if (ifname !== "" && state.ifname !== ifname) continue;
      this.release(slot);
      this.emit({ type: "delete", state, origin });
      removed++;
    }
    return removed;
  }

  /**
   * Opens a new refresh epoch and returns its token. Every later insert,
   * patch, replace or touch marks the state with it; purgeUnrefreshed(token)
   * then finds the peer-learned states nothing has refreshed since. Marks are
   * u16: when the epoch wraps every mark is reset and older tokens stop
   * purging anything (a missed purge is harmless, a wrong one is not).
   */
  beginEpoch(): number {
    if (this.epoch === 0xffff) {
      this.slab.marks.fill(0);
      this.epoch = 1;
      this.epochGeneration++;
    } else {
      this.epoch++;
    }
    return this.epochGeneration * 0x10000 + this.epoch;
  }

  /** Marks a known state as refreshed (the network named it) without changing it; false if unknown. */
  touch(key: StateKey): boolean {
    const slot = this.slotOf(key);
    if (slot < 0) return false;
    this.slab.marks[slot] = this.epoch;
    return true;
  }

  /**
   * Deletes every state learned from a peer (origin not local) that was not
   * refreshed since the epoch `token` opened and, when `creatorId` is given,
   * carries that creator id (the responder's own states: only it can say
   * they are gone). Each goes through the normal delete path, tagged with
   * `origin`, so listeners see a peer delete and never announce it. Returns
   * the count.
   */
  purgeUnrefreshed(token: number, origin: Origin, creatorId?: number): number {
    if (Math.floor(token / 0x10000) !== this.epochGeneration) return 0;
    const since = token % 0x10000;
    const only = creatorId === undefined ? -1 : creatorId >>> 0;
    const { inUse, origins, marks } = this.slab;
    let removed = 0;
    for (let slot = 0; slot < this.slab.highWater; slot++) {
      if (!inUse[slot] || origins[slot] === 0 || marks[slot] >= since) continue;
      const o = offsetOf(slot);
      if (only >= 0 && this.slab.viewOf(slot).getUint32(o + OFF.creatorId) !== only) continue;
      const state = this.materialise(slot);
      this.release(slot);
      this.emit({ type: "delete", state, origin });
      removed++;
    }
    return removed;
  }

  /** Every state; iteration order is slot order (stable between changes). */
  *states(): IterableIterator<State> {
    for (let slot = 0; slot < this.slab.highWater; slot++) {
      if (this.slab.inUse[slot]) yield this.materialise(slot);
    }
  }

  /** Slot cursor for paced walks (bulk update): next used slot ≥ `from`, or -1. */
  nextSlot(from: number): number {
    return this.slab.nextSlot(from);
  }

  stateAt(slot: number): State | undefined {
    return this.slab.isUsed(slot) ? this.materialise(slot) : undefined;
  }

  /**
   * Writes slot `slot`'s state as a wire record (creation and expire as
   * materialised states have them, updates 0) at `offset` of `out`; false when
   * the slot is free. The bulk walk sends states this way, without State objects.
   */
  wireRecordAt(slot: number, out: Uint8Array, offset: number, view: DataView): boolean {
    if (!this.slab.isUsed(slot)) return false;
    const o = offsetOf(slot);
    out.set(this.slab.chunkOf(slot).subarray(o, o + STATE_RECORD_SIZE), offset);
    const now = this.nowSeconds();
    view.setUint32(offset + OFF.creation, Math.max(0, now - this.slab.created[slot]));
    view.setUint32(offset + OFF.expire, Math.max(0, this.slab.lastActive[slot] - now));
    return true;
  }

  /** The raw stored record (creation/expire/updates zero) — for zero-copy senders. */
  recordAt(slot: number): Uint8Array | undefined {
    if (!this.slab.isUsed(slot)) return undefined;
    const o = offsetOf(slot);
    return this.slab.chunkOf(slot).subarray(o, o + STATE_RECORD_SIZE);
  }

  private slotOf(key: StateKey): number {
    const hi = this.keyHi = Number(key.id >> 32n) >>> 0;
    const lo = this.keyLo = Number(key.id & 0xffffffffn) >>> 0;
    const creator = this.keyCreator = key.creatorId >>> 0;
    return this.idIndex.find(hashId(hi, lo, creator), this.keyMatches);
  }

  private idHashAt(slot: number): number {
    return idHash(this.slab.viewOf(slot), offsetOf(slot));
  }

  private materialise(slot: number): State {
    const chunk = this.slab.chunkOf(slot);
    const view = this.slab.viewOf(slot);
    // A fresh object from the decoder: completed in place rather than copied.
    const stored = decodeStateRecord(chunk, offsetOf(slot), view) as {
      -readonly [K in keyof State]: State[K];
    };
    const now = this.nowSeconds();
    stored.creation = Math.max(0, now - this.slab.created[slot]);
    stored.expire = Math.max(0, this.slab.lastActive[slot] - now);
    return stored;
  }

  private originAt(slot: number): Origin {
    const code = this.slab.origins[slot];
    return code === 0 ? "local" : { peer: this.peers[code - 1] };
  }

  private originCode(origin: Origin): number {
    if (origin === "local") return 0;
    let code = this.peerIndex.get(origin.peer);
    if (code === undefined) {
      this.peers.push(origin.peer);
      code = this.peers.length;
      if (code > 0xffff) throw new RangeError("more than 65535 distinct peers");
      this.peerIndex.set(origin.peer, code);
    }
    return code;
  }

  private release(slot: number): void {
    const view = this.slab.viewOf(slot);
    const o = offsetOf(slot);
    this.idIndex.remove(idHash(view, o), slot);
    this.flowIndex.remove(flowHash(view, o), slot);
    this.slab.release(slot);
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  private emit(event: TableEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/**
 * An insert event whose State is built on first read (once): read it while
 * the listener runs — later the slot may hold another state.
 */
class LazyInsert {
  readonly type = "insert";
  readonly origin: Origin;
  readonly #table: StateTable;
  readonly #slot: number;
  #state: State | undefined;

  constructor(table: StateTable, slot: number, origin: Origin) {
    this.#table = table;
    this.#slot = slot;
    this.origin = origin;
  }

  get state(): State {
    return this.#state ??= this.#table.stateOfSlot(this.#slot);
  }
}

/**
 * Byte ranges of the 224-byte record that a compressed update (UPD_C: peers,
 * expire, timeout) does not carry: interface and addresses, route, rule /
 * anchor / NAT rule (a conntrack mark and status under LX1), af, proto,
 * direction, log, allow_opts. Counters and creation time are left out: they
 * change all the time and the BSDs never send them in updates either.
 */
const FULL_UPDATE_RANGES: readonly (readonly [number, number])[] = [
  [OFF.ifname, OFF.src],
  [OFF.rtAddr, OFF.creation],
  [OFF.af, OFF.timeout],
];

/** Whether `next` (a record at 0) differs from the record at `o` of `chunk` where UPD_C is blind. */
export function changesBeyondCompressed(chunk: Uint8Array, o: number, next: Uint8Array): boolean {
  for (const [from, to] of FULL_UPDATE_RANGES) {
    for (let i = from; i < to; i++) if (chunk[o + i] !== next[i]) return true;
  }
  return false;
}
