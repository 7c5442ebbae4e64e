/**
 * Puts peer states straight into the kernel table (LX1 receiver rule 14):
 *
 *   insert/update:  create (EXCL) ── EEXIST ──▶ update ── EBUSY ──▶ delete + create
 *                                                   └── ENOENT ──▶ create
 *   delete:         delete by (original tuple, zone); ENOENT is success
 *
 * An entry already known to exist (learned earlier) starts at "update",
 * saving the failed create round trip for the common UPD case. A create
 * refused with EOPNOTSUPP because the helper is unknown here is retried
 * without the helper rather than lost.
 *
 * Why straight into the kernel (as pfsync does) rather than conntrackd's
 * external cache + commit: a takeover then needs no commit step, so the
 * states are in the kernel before CARP moves the addresses (the keepalived
 * RST race, spec §6.3 item 3) and the failover time does not grow with the
 * table (≈2 s per 100 k states at the kernel's create rate). The price —
 * timers drifting on the backup because refreshes emit no events — is paid
 * by the primary re-announcing refreshed entries (provider.ts).
 */
import { formatAddress } from "../../net/address.ts";
import { CT_ERRNO } from "../../netlink/ct_constants.ts";
import type { CtEntry } from "../../netlink/ct_types.ts";
import {
  CT_FLAGS_CREATE,
  ctCreateRequest,
  ctDeleteRequest,
  ctUpdateRequest,
} from "../../netlink/ctnetlink.ts";
import { NLM_F_ACK } from "../../netlink/nlmsg.ts";
import type { State } from "../types.ts";
import type { RequestChannel } from "./channel.ts";
import { encodeStateCreate, FAST_CREATE_MAX_BYTES } from "./lx1_fast.ts";
import { stateCtKey, stateToCt, type ToCtOptions } from "./mapping.ts";

export type ApplyOutcome = "created" | "updated" | "recreated" | "deleted" | "absent" | "failed";

export interface ApplyResult {
  readonly outcome: ApplyOutcome;
  /** errno of the failing step when `failed`. */
  readonly errno?: number;
  readonly error?: string;
}

export interface ApplyCounters {
  created: number;
  updated: number;
  recreated: number;
  deleted: number;
  absent: number;
  failed: number;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(CT_ERRNO).map(([name, value]) => [value, name]),
);

export function errnoText(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

function flowText(entry: CtEntry): string {
  const o = entry.orig!;
  const port = (p?: number) => (p === undefined ? "" : `:${p}`);
  const zone = entry.zone ? ` zone ${entry.zone}` : "";
  return `proto ${o.proto} ${formatAddress(o.src)}${port(o.srcPort ?? o.icmpId)} → ` +
    `${formatAddress(o.dst)}${port(o.dstPort)}${zone}`;
}

/** One shared, frozen result per successful outcome: a bulk update makes 100,000s. */
const DONE: Record<Exclude<ApplyOutcome, "failed">, ApplyResult> = {
  created: Object.freeze({ outcome: "created" }),
  updated: Object.freeze({ outcome: "updated" }),
  recreated: Object.freeze({ outcome: "recreated" }),
  deleted: Object.freeze({ outcome: "deleted" }),
  absent: Object.freeze({ outcome: "absent" }),
};

export class CtApplier {
  readonly channel: RequestChannel;
  readonly options: ToCtOptions;
  readonly counters: ApplyCounters = {
    created: 0,
    updated: 0,
    recreated: 0,
    deleted: 0,
    absent: 0,
    failed: 0,
  };

  /** The datagram upsertMany writes its creates into, reused. */
  #batch = new Uint8Array(32 * 1024);

  constructor(channel: RequestChannel, options: ToCtOptions = {}) {
    this.channel = channel;
    this.options = options;
  }

  #create(entry: CtEntry): number {
    const seq = this.channel.nextSeq();
    let errno = this.channel.request(ctCreateRequest(entry, seq), seq);
    if (errno === CT_ERRNO.EOPNOTSUPP && entry.help) {
      const retry = this.channel.nextSeq();
      errno = this.channel.request(ctCreateRequest({ ...entry, help: undefined }, retry), retry);
    }
    return errno;
  }

  #update(entry: CtEntry): number {
    const seq = this.channel.nextSeq();
    return this.channel.request(ctUpdateRequest(entry, seq), seq);
  }

  #delete(entry: CtEntry): number {
    const seq = this.channel.nextSeq();
    return this.channel.request(ctDeleteRequest(entry.orig!, seq, entry.zone), seq);
  }

  #fail(step: string, entry: CtEntry, errno: number): ApplyResult {
    this.counters.failed++;
    return { outcome: "failed", errno, error: `${step} ${flowText(entry)}: ${errnoText(errno)}` };
  }

  #done(outcome: Exclude<ApplyOutcome, "failed">): ApplyResult {
    this.counters[outcome]++;
    return DONE[outcome];
  }

  /** Insert or update a peer state; `exists` = we injected this flow before. */
  upsert(state: State, exists = false): ApplyResult {
    return this.#upsert(stateToCt(state, this.options), exists);
  }

  #upsert(entry: CtEntry, exists: boolean): ApplyResult {
    if (!exists) {
      const errno = this.#create(entry);
      if (errno === 0) return this.#done("created");
      if (errno !== CT_ERRNO.EEXIST) return this.#fail("create", entry, errno);
    }
    const errno = this.#update(entry);
    if (errno === 0) return this.#done("updated");
    if (errno === CT_ERRNO.ENOENT) {
      const again = this.#create(entry);
      return again === 0 ? this.#done("created") : this.#fail("create", entry, again);
    }
    if (errno !== CT_ERRNO.EBUSY) return this.#fail("update", entry, errno);
    // The live entry has bits the peer's view would clear: replace it wholesale.
    const deleted = this.#delete(entry);
    if (deleted !== 0 && deleted !== CT_ERRNO.ENOENT) return this.#fail("delete", entry, deleted);
    const created = this.#create(entry);
    return created === 0 ? this.#done("recreated") : this.#fail("create", entry, created);
  }

  /**
   * Creates for flows not known to exist here, many per datagram (one
   * syscall for the lot instead of a request and an ACK each); the ones the
   * kernel refuses go down the one-by-one path of `upsert` — EEXIST to an
   * update, an unknown helper to a create without it. Results in order.
   */
  upsertMany(states: readonly State[]): ApplyResult[] {
    if (states.length === 0) return [];
    const seqs: number[] = [];
    let at = 0;
    for (let i = 0; i < states.length; i++) {
      const seq = this.channel.nextSeq();
      const flags = i === states.length - 1 ? CT_FLAGS_CREATE : CT_FLAGS_CREATE & ~NLM_F_ACK;
      seqs.push(seq);
      if (this.#batch.length - at < FAST_CREATE_MAX_BYTES) this.#grow(at);
      // Written in place (lx1_fast.ts); NAT and helper states take the general encoder.
      let end = encodeStateCreate(states[i], this.options, this.#batch, at, seq, flags);
      if (end < 0) {
        const bytes = ctCreateRequest(stateToCt(states[i], this.options), seq, flags);
        if (this.#batch.length - at < bytes.length + 4) this.#grow(at, bytes.length);
        this.#batch.set(bytes, at);
        end = at + bytes.length;
      }
      at = (end + 3) & ~3;
    }
    const errors = this.channel.sendBatch(this.#batch.subarray(0, at), seqs);
    const results: ApplyResult[] = [];
    for (let i = 0; i < states.length; i++) {
      const errno = errors.get(seqs[i]);
      if (errno === undefined) {
        results.push(this.#done("created"));
        continue;
      }
      const entry = stateToCt(states[i], this.options);
      if (errno === CT_ERRNO.EEXIST) results.push(this.#upsert(entry, true));
      else if (errno === CT_ERRNO.EOPNOTSUPP && entry.help) {
        results.push(this.#upsert({ ...entry, help: undefined }, false));
      } else results.push(this.#fail("create", entry, errno));
    }
    return results;
  }

  /** A bigger batch buffer, keeping the `used` bytes already written. */
  #grow(used: number, extra = 0): void {
    const grown = new Uint8Array(
      Math.max(this.#batch.length * 2, used + extra + FAST_CREATE_MAX_BYTES),
    );
    grown.set(this.#batch.subarray(0, used));
    this.#batch = grown;
  }

  /** Delete a peer state's entry; a missing entry is fine (it expired or was never created). */
  remove(state: State): ApplyResult {
    const { orig, zone } = stateCtKey(state);
    const entry: CtEntry = { orig, zone: zone || undefined };
    const errno = this.#delete(entry);
    if (errno === 0) return this.#done("deleted");
    if (errno === CT_ERRNO.ENOENT) return this.#done("absent");
    return this.#fail("delete", entry, errno);
  }
}
