/**
 * Answering a peer's NACK (repair_wire.ts): the current version of every
 * state the named packets carried — a full UPD, or a DEL_C when the state is
 * gone — then the marker naming the ranges answered. More than
 * MAX_REPAIR_PACKETS asked at once are answered "forgotten": so large a loss
 * is cheaper to heal with a bulk update. Touches only the table (reads) and
 * the sender's outbox.
 */
import type { StateTable } from "../state/table.ts";
import { SYNC_FLAG_NOSYNC } from "../state/types.ts";
import { seqAdd } from "./repair_log.ts";
import type { Nack, RepairedRange } from "./repair_wire.ts";
import type { PfsyncSender } from "./sender.ts";

/** Packets one NACK may have repaired. */
export const MAX_REPAIR_PACKETS = 4_096;

/**
 * Queues the answer to `nack` in `sender`; returns the states re-sent, or
 * undefined when the NACK is for another sender id (not ours to answer).
 */
export function answerNack(
  nack: Nack,
  hostId: number,
  table: StateTable,
  sender: PfsyncSender,
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
  let budget = MAX_REPAIR_PACKETS;
  const marks: RepairedRange[] = [];
  for (const range of nack.ranges) {
    let answered = range.packets <= budget;
    if (answered) {
      budget -= range.packets;
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
