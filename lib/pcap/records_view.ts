/**
 * One line (and one JSON object) per pfsync record for `pfsyncd decode`, plus
 * the per-record validity checks a receiver makes (pfsync.md §6.2–§6.3), all
 * through tables indexed by action code.
 */
import type * as R from "../pfsync/records.ts";
import { isBulkRequest, PFSYNC_BUS_END, PFSYNC_BUS_START } from "../pfsync/records.ts";
import { formatStateLine } from "../state/format.ts";
import { stateToJson } from "../state/json.ts";
import type { State, StatePeer } from "../state/types.ts";
import {
  AF_INET,
  AF_INET6_FREEBSD,
  AF_INET6_OPENBSD,
  formatCreatorId,
  formatStateId,
  PFTM_MAX,
  TCP_STATE_MAX,
  TCP_STATE_NAMES,
} from "../state/types.ts";

interface RecordFormat {
  text(record: never): string;
  json(record: never): Record<string, unknown>;
  judge?(record: never): string | undefined;
}

const ids = (r: { id: bigint; creatorId: number }) =>
  `id ${formatStateId(r.id)} creatorid ${formatCreatorId(r.creatorId)}`;
const idsJson = (r: { id: bigint; creatorId: number }) => ({
  id: formatStateId(r.id),
  creatorid: formatCreatorId(r.creatorId),
});

const peerName = (p: StatePeer) => TCP_STATE_NAMES[p.state] ?? String(p.state);

function judgeValues(timeout: number, src: StatePeer, dst: StatePeer): string | undefined {
  if (timeout >= PFTM_MAX) return `badstate: timeout ${timeout} ≥ ${PFTM_MAX}`;
  if (src.state > TCP_STATE_MAX || dst.state > TCP_STATE_MAX) {
    return `badstate: peer state ${src.state}:${dst.state} > ${TCP_STATE_MAX}`;
  }
  return undefined;
}

const fullState = (withInsertChecks: boolean): RecordFormat => ({
  text: (s: State) => `${formatStateLine(s)} ${ids(s)} age ${s.creation}s`,
  json: (s: State) => stateToJson(s),
  judge: (s: State) => {
    const values = judgeValues(s.timeout, s.src, s.dst);
    if (values || !withInsertChecks) return values;
    if (s.direction > 2) return `badstate: direction ${s.direction} > 2`;
    if (s.af !== AF_INET && s.af !== AF_INET6_FREEBSD && s.af !== AF_INET6_OPENBSD) {
      return `badstate: address family ${s.af}`;
    }
    return undefined;
  },
});

const clear: RecordFormat = {
  text: (r: R.StateClear) =>
    `clear states of creatorid ${formatCreatorId(r.creatorId)} on ${r.ifname || "all interfaces"}`,
  json: (r: R.StateClear) => ({ creatorid: formatCreatorId(r.creatorId), ifname: r.ifname }),
};

const compressedUpdate: RecordFormat = {
  text: (r: R.CompressedUpdate) =>
    `${ids(r)} ${peerName(r.src)}:${peerName(r.dst)} timeout ${r.timeout} updates ${r.updates}`,
  json: (r: R.CompressedUpdate) => ({
    ...idsJson(r),
    src: r.src,
    dst: r.dst,
    expire: r.expire,
    timeout: r.timeout,
    updates: r.updates,
  }),
  judge: (r: R.CompressedUpdate) => judgeValues(r.timeout, r.src, r.dst),
};

const compressedDelete: RecordFormat = {
  text: (r: R.CompressedDelete) => ids(r),
  json: (r: R.CompressedDelete) => idsJson(r),
};

const noRecords: RecordFormat = { text: () => "", json: () => ({}) };

const updateRequest: RecordFormat = {
  text: (r: R.UpdateRequest) => isBulkRequest(r) ? "bulk update request" : `request ${ids(r)}`,
  json: (r: R.UpdateRequest) => ({ ...idsJson(r), bulk: isBulkRequest(r) }),
};

const BUS_NAMES: Readonly<Record<number, string>> = {
  [PFSYNC_BUS_START]: "START",
  [PFSYNC_BUS_END]: "END",
};

const bulkStatus: RecordFormat = {
  text: (r: R.BulkStatus) =>
    `bulk update ${BUS_NAMES[r.status] ?? `status ${r.status}`} from creatorid ${
      formatCreatorId(r.creatorId)
    } after ${r.endtime}s`,
  json: (r: R.BulkStatus) => ({
    creatorid: formatCreatorId(r.creatorId),
    endtime: r.endtime,
    status: BUS_NAMES[r.status] ?? r.status,
  }),
};

/** Index = action code (pfsync.md §2.2). */
const FORMATS: readonly RecordFormat[] = [
  clear, // 0 CLR
  fullState(true), // 1 INS
  fullState(false), // 2 UPD
  { ...fullState(false), judge: undefined }, // 3 DEL: only looked up
  compressedUpdate, // 4 UPD_C
  compressedDelete, // 5 DEL_C
  noRecords, // 6 INS_F
  noRecords, // 7 DEL_F
  updateRequest, // 8 UREQ
  bulkStatus, // 9 BUS
];

export function formatRecord(action: number, record: unknown): string {
  return FORMATS[action].text(record as never);
}

export function recordToJson(action: number, record: unknown): Record<string, unknown> {
  return FORMATS[action].json(record as never);
}

/** The receiver's reason to skip this record, or undefined when it would take it. */
export function judgeRecord(action: number, record: unknown): string | undefined {
  return FORMATS[action].judge?.(record as never);
}
