/**
 * The shapes `pfsyncd decode` reports in (lib/pcap/inspect.ts builds them,
 * lib/pcap/protocols.ts fills them per protocol) and the small helpers that
 * turn a receiver's checks into `Check` entries.
 */
import { DecodeError } from "../bytes/errors.ts";
import type { PfsyncAuth } from "../pfsync/auth.ts";

/** A virtual address the HMAC covers; `vhid` undefined = for every vhid. */
export interface VipOption {
  readonly vhid?: number;
  readonly address: Uint8Array;
}

/** A configured vhid: what a receiver knows that the packet does not carry. */
export interface VhostOption {
  readonly vhid: number;
  readonly pass: string;
  readonly addresses: readonly Uint8Array[];
}

export interface InspectOptions {
  /** CARP passphrase; with `vips` the HMAC is checked. */
  readonly pass?: string;
  readonly vips?: readonly VipOption[];
  /**
   * The vhids of a configuration: an advertisement for another vhid fails the
   * vhid check (badvhid), the others are checked with their own passphrase
   * and addresses (`pass` and `vips` still win when given).
   */
  readonly vhosts?: readonly VhostOption[];
  /** pfsync authentication key; verifies the trailer. Shared across packets (replay check). */
  readonly auth?: PfsyncAuth;
}

/** ok: true passed, false failed (`reason` names the receiver's counter), null not checked. */
export interface Check {
  readonly name: string;
  readonly ok: boolean | null;
  readonly detail: string;
  readonly reason?: string;
}

export interface RecordView {
  readonly text: string;
  readonly json: Record<string, unknown>;
  /** A receiver's per-record verdict ("badstate: …") when it would skip the record. */
  readonly problem?: string;
}

export interface PacketReport {
  readonly index: number;
  /** Seconds since the epoch, with the capture's sub-second part. */
  readonly seconds: number;
  readonly nanos: number;
  readonly protocol: "carp" | "pfsync";
  readonly family: 4 | 6;
  readonly source: string;
  readonly destination: string;
  readonly linkSource?: string;
  readonly direction?: string;
  readonly ttl: number;
  /** Bytes of the CARP or pfsync payload. */
  readonly length: number;
  readonly checks: readonly Check[];
  /** Every check that ran passed and the packet decoded. */
  readonly ok: boolean;
  /** Set when decoding stopped at a malformed field. */
  readonly error?: { readonly reason: string; readonly message: string; readonly offset: number };
  readonly summary: string;
  readonly fields: Record<string, unknown>;
  readonly records: readonly RecordView[];
}

export type InspectResult =
  | { readonly kind: "packet"; readonly report: PacketReport }
  | { readonly kind: "skipped"; readonly why: string };

export interface Network {
  family: 4 | 6;
  source: string;
  destination: string;
  ttl: number;
  protocol: number;
  payload: Uint8Array;
  checks: Check[];
}

export type Base = Omit<
  PacketReport,
  "protocol" | "checks" | "ok" | "error" | "summary" | "fields" | "records"
>;
export type ProtocolDecoder = (base: Base, net: Network, options: InspectOptions) => PacketReport;

/** Runs `fn`; a DecodeError becomes a failed check named `name`. Returns whether it passed. */
export function step(
  checks: Check[],
  name: string,
  detail: string,
  fn: () => void,
): DecodeError | null {
  try {
    fn();
    checks.push({ name, ok: true, detail });
    return null;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    checks.push({ name, ok: false, detail: error.message, reason: error.reason });
    return error;
  }
}

export function ttlCheck(ttl: number, want: number): Check {
  return ttl === want
    ? { name: "ttl", ok: true, detail: `${ttl}` }
    : { name: "ttl", ok: false, detail: `${ttl}, must be ${want}`, reason: "badttl" };
}

export function finish(
  base: Base,
  protocol: "carp" | "pfsync",
  checks: Check[],
  error: DecodeError | null,
  summary: string,
  fields: Record<string, unknown>,
  records: RecordView[] = [],
): PacketReport {
  const ok = error === null && checks.every((c) => c.ok !== false);
  return {
    ...base,
    protocol,
    checks,
    ok,
    ...(error
      ? { error: { reason: error.reason, message: error.message, offset: error.offset } }
      : {}),
    summary,
    fields,
    records,
  };
}
