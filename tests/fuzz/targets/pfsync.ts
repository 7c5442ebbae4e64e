/**
 * pfsync: `decodeFrame` (may throw only DecodeError) and the whole receive
 * path, `PfsyncEngine.receive` / `receiveDatagram` over a populated table.
 * A rejected packet may change nothing but `ipackets` and the counter its
 * reason names: not the table, not the bulk-update state, not the
 * authentication replay window, and it may not send anything. One that still
 * reached the protocol (a BUS nobody waits for, a record with bad values:
 * engine.ts `arrived`) had its sequence trailer read, so `seqgaps` may move too.
 */
import { DecodeError } from "../../../lib/bytes/errors.ts";
import { fromHex } from "../../../lib/bytes/hex.ts";
import {
  ACTIONS,
  AUTH_TRAILER_SIZE,
  decodeFrame,
  encodeFrame,
  isPfsyncCounter,
  PFSYNC_ACT_BUS,
  PFSYNC_ACT_CLR,
  PFSYNC_ACT_DEL,
  PFSYNC_ACT_DEL_C,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UPD,
  PFSYNC_ACT_UPD_C,
  PFSYNC_ACT_UREQ,
  PFSYNC_BUS_END,
  PFSYNC_BUS_START,
  PfsyncAuth,
  PfsyncEngine,
  unwrapIPv4,
  wrapIPv4,
} from "../../../lib/pfsync/mod.ts";
import { arrived } from "../../../lib/pfsync/engine.ts";
import { encodeNack, encodeRepaired } from "../../../lib/pfsync/repair_wire.ts";
import { encodeSeqTrailer } from "../../../lib/pfsync/sequence.ts";
import { StateTable } from "../../../lib/state/table.ts";
import type { State } from "../../../lib/state/types.ts";
import { dump, makeState, V1, V2, V2B, V3, V4, V5, V6, V7 } from "../../pfsync/fixtures.ts";
import { capturedDatagrams } from "../corpus/mod.ts";
import type { Rng } from "../prng.ts";
import { expectDecodeError, type FuzzInstance, type FuzzTarget, invariant } from "../target.ts";
import { checkCounters, stableJson, tableSnapshot } from "./snapshot.ts";

const PEER = "192.0.2.2";
const HOST_ID = 0x0a0a0a0a;
export const PFSYNC_FUZZ_KEY = new TextEncoder().encode("pfsyncd fuzzing key, 32 bytes ..");
const KEY = PFSYNC_FUZZ_KEY;

let states: State[] | undefined;

/** The flows the seeds talk about; half of them are in the table at the start of a block. */
function corpusStates(): State[] {
  states ??= Array.from({ length: 16 }, (_, i) =>
    makeState({
      creatorId: i % 3 === 0 ? HOST_ID : 0x0badcafe,
      ifname: i % 2 ? "em0" : "self",
      proto: i % 4 === 3 ? 17 : 6,
    }));
  return states;
}

function frames(): Uint8Array[] {
  const s = corpusStates();
  const mine = s.slice(0, 8);
  const theirs = s.slice(8);
  const compressed = (list: State[]) =>
    list.map((x) => ({ ...x, expire: 30, updates: 1, src: { ...x.src, seqhi: x.src.seqhi + 9 } }));
  return [
    ...[V1, V2, V2B, V4, V6].map(fromHex),
    ...[V3, V5].map((v) => fromHex(dump(v))),
    encodeFrame({ action: PFSYNC_ACT_INS, records: theirs.slice(0, 3) }),
    encodeFrame({ action: PFSYNC_ACT_UPD, records: mine.slice(0, 4) }),
    encodeFrame({ action: PFSYNC_ACT_UPD, records: theirs }),
    encodeFrame({ action: PFSYNC_ACT_UPD_C, records: compressed(mine) }),
    encodeFrame({ action: PFSYNC_ACT_UPD_C, records: compressed(theirs.slice(0, 2)) }),
    encodeFrame({ action: PFSYNC_ACT_DEL_C, records: s.slice(2, 6) }),
    encodeFrame({ action: PFSYNC_ACT_DEL, records: [mine[5]] }),
    encodeFrame({
      action: PFSYNC_ACT_UREQ,
      records: [{ id: mine[1].id, creatorId: mine[1].creatorId }, { id: 0n, creatorId: 0 }],
    }),
    encodeFrame({ action: PFSYNC_ACT_CLR, records: [{ creatorId: 0x0badcafe, ifname: "" }] }),
    encodeFrame({
      action: PFSYNC_ACT_BUS,
      records: [{ creatorId: 0x0badcafe, endtime: 0, status: PFSYNC_BUS_START }],
    }),
    encodeFrame({
      action: PFSYNC_ACT_BUS,
      records: [{ creatorId: 0x0badcafe, endtime: 3, status: PFSYNC_BUS_END }],
    }),
    // Repair (repair_wire.ts): a NACK for our packets, and a peer's marker behind its trailer.
    new Uint8Array([
      ...encodeFrame({ action: PFSYNC_ACT_UPD_C, records: [] }),
      ...encodeNack({ senderId: HOST_ID, ranges: [{ hi: 1, lo: 2, packets: 3 }] }),
    ]),
    new Uint8Array([
      ...encodeFrame({ action: PFSYNC_ACT_UPD_C, records: [] }),
      ...encodeSeqTrailer({ senderId: 0x0badcafe, sequence: (5n << 32n) | 9n }),
      ...encodeRepaired([{ hi: 5, lo: 4, packets: 4, answered: true }]),
    ]),
  ];
}

function sealed(frame: Uint8Array, signer: PfsyncAuth): Uint8Array {
  const end = decodeFrame(frame).end;
  const out = new Uint8Array(end + AUTH_TRAILER_SIZE);
  out.set(frame.subarray(0, end));
  return signer.seal(out, end);
}

/** Re-aims the header at a real action and a count that fits, and the IP header at TTL 255. */
function repair(input: Uint8Array, rng: Rng): Uint8Array {
  const out = input.slice();
  let at = 0;
  if (out.length >= 20 && out[0] >> 4 === 4) {
    out[8] = 255;
    out[9] = 240;
    at = (out[0] & 0x0f) * 4;
  }
  if (out.length < at + 4) return out;
  out[at] = 2;
  out[at + 2] = rng.int(10);
  const spec = ACTIONS[out[at + 2]];
  if (spec.countRule === "count" && spec.recordSize > 0) {
    out[at + 3] = Math.min(255, Math.floor((out.length - at - 4) / spec.recordSize));
  }
  return out;
}

interface Internals {
  receiver: { d: { auth?: { lastSeen: Map<string, bigint> } } };
}

/** Test hook: runs between receive and the checks, to prove the checks catch a change. */
export type PfsyncSabotage = (table: StateTable, engine: PfsyncEngine, accepted: boolean) => void;

export function createEngine(block: number, sabotage?: PfsyncSabotage): FuzzInstance {
  let now = 1_000_000;
  const table = new StateTable({ now: () => now });
  const s = corpusStates();
  for (let i = 0; i < s.length; i += 2) {
    table.insert(s[i], i % 4 === 0 ? "local" : { peer: PEER });
  }
  for (let i = 0; i < 24; i++) table.insert(makeState(), i % 2 ? "local" : { peer: "192.0.2.9" });
  let sent = 0;
  let held = 0;
  const authMode = block % 3 === 1 ? "required" : block % 3 === 2 ? "optional" : undefined;
  const engine = new PfsyncEngine(table, {
    send: () => void sent++,
    now: () => now,
    log: () => {},
    holdPreemption: () => void held++,
  }, {
    syncif: "sync0",
    hostId: HOST_ID,
    pacing: { packetsPerSecond: 0 },
    staleDetection: block % 5 !== 4,
    auth: authMode ? { key: KEY, mode: authMode } : undefined,
  });
  // Even blocks wait for a bulk update (BUS is judged), odd ones do not (BUS ignored).
  if (block % 2 === 0) engine.start();
  let events = 0;
  table.on(() => void events++);
  const auth = (engine as unknown as Internals).receiver.d.auth;
  let rejected = 0;

  return {
    run(input: Uint8Array): string {
      now += 7;
      const datagram = input.length > 0 && input[0] >> 4 === 4;
      // The pure decoder first, on the payload the engine will see.
      let payload: Uint8Array | undefined = input;
      if (datagram) {
        try {
          payload = unwrapIPv4(input).payload;
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          payload = undefined;
        }
      }
      const pure = payload ? expectDecodeError(() => decodeFrame(payload)) : "hdrops";

      const before = {
        events,
        size: table.size,
        stats: { ...engine.stats },
        sent,
        held,
        bulk: stableJson(engine.status().bulk),
        auth: auth ? stableJson(auth.lastSeen) : "",
        table: rejected % 4 === 0 ? tableSnapshot(table) : undefined,
      };
      const verdict = datagram
        ? engine.receiveDatagram(input, true)
        : engine.receive({ ttl: 255, onSyncInterface: true, source: PEER }, input);
      sabotage?.(table, engine, verdict.accepted);

      if (verdict.accepted) {
        invariant(pure === "ok", `accepted, yet decodeFrame() says ${pure}`);
        invariant(
          [...table.states()].length === table.size,
          "table size disagrees with its contents",
        );
        return "accepted";
      }
      rejected++;
      const reason = verdict.reason;
      if (["hdrops", "badver", "badact", "badlen"].includes(reason)) {
        invariant(pure === reason, `receiver dropped as ${reason}, decodeFrame() says ${pure}`);
      }
      const allowed: Record<string, number> = { ipackets: 1 };
      if (isPfsyncCounter(reason)) allowed[reason] = (allowed[reason] ?? 0) + 1;
      if (arrived(verdict)) allowed.seqgaps = engine.stats.seqgaps - before.stats.seqgaps;
      checkCounters(`rejected (${reason})`, before.stats, engine.stats, allowed);
      invariant(events === before.events, `rejected (${reason}) but the table emitted events`);
      invariant(table.size === before.size, `rejected (${reason}) but the table size changed`);
      invariant(sent === before.sent, `rejected (${reason}) but a packet was sent`);
      invariant(held === before.held, `rejected (${reason}) but preemption hold changed`);
      invariant(
        stableJson(engine.status().bulk) === before.bulk,
        `rejected (${reason}) but the bulk-update state changed`,
      );
      invariant(
        !auth || stableJson(auth.lastSeen) === before.auth,
        `rejected (${reason}) but the replay window moved`,
      );
      if (before.table !== undefined) {
        invariant(
          tableSnapshot(table) === before.table,
          `rejected (${reason}) but table contents changed`,
        );
      }
      return reason;
    },
  };
}

export const pfsyncTarget: FuzzTarget = {
  name: "pfsync",
  covers: "decodeFrame, unwrapIPv4, PfsyncEngine.receive/receiveDatagram (receiver, bulk, auth)",
  kind: "bytes",
  seeds() {
    const raw = frames();
    const signer = new PfsyncAuth({ key: KEY, mode: "required", now: () => 1_700_000_000_000 });
    const withTrailer = raw.filter((_, i) => i % 2 === 0).map((f) => sealed(f, signer));
    const all = [...raw, ...withTrailer];
    const wrapped = all.filter((_, i) => i % 3 === 0).map((f, i) =>
      wrapIPv4(f, PEER, "224.0.0.240", i)
    );
    // Real traffic between two agents: bulk update, inserts, updates, deletes, BUS.
    const captured = capturedDatagrams(240, 16);
    return [
      ...all,
      ...wrapped,
      fromHex(dump(V7)),
      ...captured,
      ...captured.map((d) => d.slice(20)),
    ];
  },
  repair,
  create: (block) => createEngine(block),
};

/** The pure codec alone, at full speed. */
export const pfsyncFrameTarget: FuzzTarget = {
  name: "pfsync-frame",
  covers: "decodeFrame (pure codec)",
  kind: "bytes",
  seeds: () => pfsyncTarget.seeds().filter((s) => s[0] === 2),
  repair,
  create: () => ({
    run(input) {
      try {
        const frame = decodeFrame(input);
        invariant(frame.end <= input.length, `end ${frame.end} past ${input.length} bytes`);
        return "ok";
      } catch (error) {
        if (error instanceof DecodeError) return error.reason;
        throw error;
      }
    },
  }),
};
