/**
 * The action table (spec pfsync.md §2.2): indexed by action code, it gives each
 * action's record size, codec and count rule. The frame codec and the receiver
 * dispatch through it instead of branching on the action.
 */
import type { State } from "../state/types.ts";
import * as H from "./header.ts";
import * as R from "./records.ts";

export type CountRule = "count" | "one";

export interface ActionSpec<T> {
  readonly code: number;
  readonly name: string;
  /** The label the original tools print ("UPD ST COMP" …). */
  readonly label: string;
  readonly recordSize: number;
  /** "one": exactly one record with header count 0 (CLR, BUS). */
  readonly countRule: CountRule;
  readonly decode: (bytes: Uint8Array, offset: number, view: DataView) => T;
  readonly encode: (record: T, out: Uint8Array, offset: number, view: DataView) => void;
}

/** Fragment actions have no record type; receivers accept and ignore them. */
const noRecord = {
  decode: (): never => {
    throw new RangeError("fragment actions carry no records");
  },
  encode: (): never => {
    throw new RangeError("fragment actions carry no records");
  },
};

const full = (code: number, name: string, label: string): ActionSpec<State> => ({
  code,
  name,
  label,
  recordSize: R.STATE_RECORD_SIZE,
  countRule: "count",
  decode: (b, o, v) => R.decodeStateRecord(b, o, v),
  encode: (r, out, o, v) => void R.encodeStateRecord(r, out, o, v),
});

export const CLR: ActionSpec<R.StateClear> = {
  code: H.PFSYNC_ACT_CLR,
  name: "CLR",
  label: "CLR ST",
  recordSize: R.CLR_SIZE,
  countRule: "one",
  decode: R.decodeStateClear,
  encode: (r, out, o, v) => void R.encodeStateClear(r, out, o, v),
};
export const INS = full(H.PFSYNC_ACT_INS, "INS", "INS ST");
export const UPD = full(H.PFSYNC_ACT_UPD, "UPD", "UPD ST");
export const DEL = full(H.PFSYNC_ACT_DEL, "DEL", "DEL ST");
export const UPD_C: ActionSpec<R.CompressedUpdate> = {
  code: H.PFSYNC_ACT_UPD_C,
  name: "UPD_C",
  label: "UPD ST COMP",
  recordSize: R.UPD_C_SIZE,
  countRule: "count",
  decode: R.decodeCompressedUpdate,
  encode: (r, out, o, v) => void R.encodeCompressedUpdate(r, out, o, v),
};
export const DEL_C: ActionSpec<R.CompressedDelete> = {
  code: H.PFSYNC_ACT_DEL_C,
  name: "DEL_C",
  label: "DEL ST COMP",
  recordSize: R.DEL_C_SIZE,
  countRule: "count",
  decode: R.decodeCompressedDelete,
  encode: (r, out, o, v) => void R.encodeCompressedDelete(r, out, o, v),
};
export const INS_F: ActionSpec<unknown> = {
  code: H.PFSYNC_ACT_INS_F,
  name: "INS_F",
  label: "INS FR",
  recordSize: 0,
  countRule: "count",
  ...noRecord,
};
export const DEL_F: ActionSpec<unknown> = {
  code: H.PFSYNC_ACT_DEL_F,
  name: "DEL_F",
  label: "DEL FR",
  recordSize: 0,
  countRule: "count",
  ...noRecord,
};
export const UREQ: ActionSpec<R.UpdateRequest> = {
  code: H.PFSYNC_ACT_UREQ,
  name: "UREQ",
  label: "UPD REQ",
  recordSize: R.UREQ_SIZE,
  countRule: "count",
  decode: R.decodeUpdateRequest,
  encode: (r, out, o, v) => void R.encodeUpdateRequest(r, out, o, v),
};
export const BUS: ActionSpec<R.BulkStatus> = {
  code: H.PFSYNC_ACT_BUS,
  name: "BUS",
  label: "BLK UPD STAT",
  recordSize: R.BUS_SIZE,
  countRule: "one",
  decode: R.decodeBulkStatus,
  encode: (r, out, o, v) => void R.encodeBulkStatus(r, out, o, v),
};

/** Index = action code; length = PFSYNC_ACT_MAX. */
// deno-lint-ignore no-explicit-any
export const ACTIONS: readonly ActionSpec<any>[] = [
  CLR,
  INS,
  UPD,
  DEL,
  UPD_C,
  DEL_C,
  INS_F,
  DEL_F,
  UREQ,
  BUS,
];

export function actionName(code: number): string {
  return ACTIONS[code]?.name ?? `action ${code}`;
}

/** Records a header announces: `count`, or 1 for CLR/BUS whatever count says. */
export function recordCount(spec: ActionSpec<unknown>, headerCount: number): number {
  return spec.countRule === "one" ? 1 : headerCount;
}
