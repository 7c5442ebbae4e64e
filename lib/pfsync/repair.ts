/**
 * Answering a peer's NACK (repair_wire.ts): the current version of every
 * state the named packets carried — a full UPD, or a DEL_C when the state is
 * gone — then the marker naming the ranges answered. Repairs are budgeted
 * (RepairBudget): ranges beyond the budget are answered "forgotten", because
 * so large a loss is cheaper to heal with a bulk update, and because a NACK
 * (unauthenticated, like all of pfsync without a key) must not make a node
 * flood the sync link. Touches only the table (reads) and the sender's outbox.
 */
import type { StateTable } from "../state/table.ts";
import { SYNC_FLAG_NOSYNC } from "../state/types.ts";
import { seqAdd } from "./repair_log.ts";
import type { Nack, RepairedRange } from "./repair_wire.ts";
import type { PfsyncSender } from "./sender.ts";

/** Lost packets repaired per second, at most, for all NACKs together (and at once). */
export const MAX_REPAIR_PACKETS = 4_096;

/** A token bucket of packets to repair: `perSecond` a second, at most that many at once. */
export class RepairBudget {
  readonly perSecond: number;
  private tokens: number;
  private at: number | undefined;

  constructor(perSecond = MAX_REPAIR_PACKETS) {
    this.perSecond = perSecond;
    this.tokens = perSecond;
  }

  /** Takes `packets` tokens at `now` if there are that many; false (nothing taken) if not. */
  take(now: number, packets: number): boolean {
    if (this.at !== undefined) {
      this.tokens = Math.min(this.perSecond, this.tokens + (now - this.at) * this.perSecond / 1000);
    }
    this.at = now;
    if (packets > this.tokens) return false;
    this.tokens -= packets;
    return true;
  }
}

/**
 * Queues the answer to `nack` in `sender`; returns the states re-sent, or
 * undefined when the NACK is for another sender id (not ours to answer).
 */
export function answerNack(
  nack: Nack,
  hostId: number,
  table: StateTable,
  sender: PfsyncSender,
  budget: RepairBudget,
  now: number,
): number | undefined {
  if (nack.senderId !== hostId >>> 0) return undefined;
  const seen = new Set<string>();
  let resent = 0;
  const visit = (idHi: number, idLo: number, creatorId: number) => {
    const tag = `${idHi}:${idLo}:${creatorId}`;
    if (seen.has(tag)) return;
    seen.add(tag);
    const key = { id: (BigInt(idHi) << 32n) | BigInt(idLo), creatorId };
    const state = table.get(key);
    if (!state) sender.repairDelete(key);
    else if (!(state.syncFlags & SYNC_FLAG_NOSYNC)) sender.fullUpdate(state);
    else return;
    resent++;
  };
  const marks: RepairedRange[] = [];
  for (const range of nack.ranges) {
    let answered = budget.take(now, range.packets);
    if (answered) {
      for (let i = 0; i < range.packets; i++) {
        const seq = seqAdd(range.hi, range.lo, i);
        if (sender.repairLookup(seq.hi, seq.lo, visit) === "gone") answered = false;
      }
    }
    marks.push({ ...range, answered });
  }
  sender.repairDone(marks);
  return resent;
}
