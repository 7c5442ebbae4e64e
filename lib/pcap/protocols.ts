/**
 * The CARP (IP protocol 112) and pfsync (240) halves of `pfsyncd decode`:
 * each protocol's checks in its receiver's order (carp.md §1.5, pfsync.md
 * §6.1) through the codecs the agent itself runs, then the fields and, for
 * pfsync, one view a record. Dispatched by protocol number (PROTOCOLS).
 */
import { describeTrailing } from "../pfsync/repair_wire.ts";
import { DecodeError } from "../bytes/errors.ts";
import { toHex } from "../bytes/hex.ts";
import {
  CARP_DFLTTL,
  CARP_HEADER_LENGTH,
  CARP_PROTOCOL,
  type CarpHeader,
  checkCarpChecksum,
  checkCarpLength,
  checkCarpVersion,
  readCarpHeader,
} from "../carp/header.ts";
import { carpHmac } from "../carp/hmac.ts";
import type { HmacOrder } from "../carp/types.ts";
import { formatAddress } from "../net/address.ts";
import { ACTIONS } from "../pfsync/actions.ts";
import { checkFrame, decodeFrame } from "../pfsync/frame.ts";
import { IPPROTO_PFSYNC, PFSYNC_DFLTTL } from "../pfsync/header.ts";
import { formatRecord, judgeRecord, recordToJson } from "./records_view.ts";
import {
  type Base,
  type Check,
  finish,
  type InspectOptions,
  type Network,
  type PacketReport,
  type ProtocolDecoder,
  step,
  ttlCheck,
  type VhostOption,
} from "./report.ts";

const HMAC_ORDERS: readonly HmacOrder[] = ["configured", "sorted"];

function carpPacket(base: Base, net: Network, options: InspectOptions): PacketReport {
  const bytes = net.payload;
  const checks = [...net.checks, ttlCheck(net.ttl, CARP_DFLTTL)];
  const error =
    step(checks, "len", `${bytes.length} ≥ ${CARP_HEADER_LENGTH}`, () => checkCarpLength(bytes)) ??
      step(checks, "sum", "CARP checksum", () => checkCarpChecksum(bytes)) ??
      step(checks, "ver", "version 2", () => checkCarpVersion(bytes));
  if (error && error.reason === "badlen") {
    return finish(base, "carp", checks, error, "CARP (truncated)", {});
  }
  const header = readCarpHeader(bytes);
  const vhost = options.vhosts?.find((v) => v.vhid === header.vhid);
  if (!error && options.vhosts && !vhost) {
    checks.push({
      name: "vhid",
      ok: false,
      detail: `vhid ${header.vhid} is not configured (${
        options.vhosts.map((v) => v.vhid).join(", ") || "none"
      } are)`,
      reason: "badvhid",
    });
  } else if (!error) {
    if (vhost) checks.push({ name: "vhid", ok: true, detail: `${header.vhid} configured` });
    checks.push(hmacCheck(header, options, vhost));
  }
  const bowOut = header.advbase === 255 && header.advskew === 255;
  const summary = `CARP vhid ${header.vhid} advbase ${header.advbase} advskew ${header.advskew}` +
    `${header.demote ? ` demote ${header.demote}` : ""} counter ${
      header.counter.toString(16).padStart(16, "0")
    }${bowOut ? " (bow-out)" : ""}`;
  const fields = {
    version: header.version,
    type: header.type,
    vhid: header.vhid,
    advskew: header.advskew,
    authlen: header.authlen,
    demote: header.demote,
    advbase: header.advbase,
    checksum: header.checksum,
    counter: header.counter.toString(16).padStart(16, "0"),
    hmac: toHex(header.hmac),
    bowOut,
  };
  return finish(base, "carp", checks, error, summary, fields);
}

function hmacCheck(header: CarpHeader, options: InspectOptions, vhost?: VhostOption): Check {
  if (options.pass === undefined && !options.vips?.length && !vhost) {
    return { name: "hmac", ok: null, detail: "not checked (no --pass)" };
  }
  const given = (options.vips ?? [])
    .filter((v) => v.vhid === undefined || v.vhid === header.vhid)
    .map((v) => v.address);
  const addresses = given.length > 0 ? given : [...(vhost?.addresses ?? [])];
  const pass = options.pass ?? vhost?.pass ?? "";
  if (addresses.length === 0) {
    return {
      name: "hmac",
      ok: null,
      detail:
        `not checked: the HMAC covers the virtual addresses; give --vip for vhid ${header.vhid}`,
    };
  }
  for (const order of HMAC_ORDERS) {
    const want = carpHmac(pass, header.vhid, addresses, header.counter, order);
    if (toHex(want) === toHex(header.hmac)) {
      return { name: "hmac", ok: true, detail: `matches (${order} address order)` };
    }
  }
  return {
    name: "hmac",
    ok: false,
    detail: `does not match passphrase and ${addresses.map(formatAddress).join(", ")}`,
    reason: "badauth",
  };
}

function pfsyncPacket(base: Base, net: Network, options: InspectOptions): PacketReport {
  const bytes = net.payload;
  const checks = [...net.checks, ttlCheck(net.ttl, PFSYNC_DFLTTL)];
  if (net.family === 6) {
    checks.push({
      name: "family",
      ok: false,
      detail: "pfsync version 2 runs over IPv4 only",
      reason: "badif",
    });
  }
  let frame;
  let error: DecodeError | null = null;
  try {
    checkFrame(bytes);
    frame = decodeFrame(bytes);
    checks.push({ name: "hdr", ok: true, detail: "version, action and length" });
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    error = e;
    checks.push({ name: "hdr", ok: false, detail: e.message, reason: e.reason });
  }
  const head = bytes.length >= 4
    ? { version: bytes[0], af: bytes[1], action: bytes[2], count: bytes[3] }
    : undefined;
  const spec = head ? ACTIONS[head.action] : undefined;
  const name = spec?.name ?? (head ? `action ${head.action}` : "?");
  if (!frame || !head) {
    const summary = head
      ? `pfsync v${head.version} ${name} count ${head.count} len ${bytes.length}`
      : `pfsync (truncated, ${bytes.length} bytes)`;
    return finish(base, "pfsync", checks, error, summary, head ?? {});
  }
  const trailing = bytes.length - frame.end;
  if (options.auth) {
    const verdict = options.auth.verify(bytes, frame.end, net.source);
    checks.push({
      name: "auth",
      ok: verdict === "ok",
      detail: verdict === "ok" ? "trailer HMAC-SHA256 ok" : `trailer ${verdict}`,
      ...(verdict === "ok" ? {} : { reason: "badauth" }),
    });
  } else if (
    trailing >= 48 &&
    new DataView(bytes.buffer, bytes.byteOffset).getUint32(frame.end) === 0x50534131
  ) {
    checks.push({ name: "auth", ok: null, detail: "trailer present, not checked (no --auth-key)" });
  }
  const records = (frame.message.records as readonly unknown[]).map((r) => {
    const problem = judgeRecord(head.action, r);
    return {
      text: formatRecord(head.action, r),
      json: recordToJson(head.action, r),
      ...(problem ? { problem } : {}),
    };
  });
  const behind = describeTrailing(bytes, frame.end);
  const summary = `pfsync v${head.version} ${name} count ${head.count} len ${bytes.length}${
    trailing > 0 ? ` (+${trailing} trailing: ${behind})` : ""
  }`;
  return finish(base, "pfsync", checks, null, summary, {
    version: head.version,
    af: head.af,
    action: head.action,
    actionName: name,
    count: head.count,
    trailing,
    ...(behind ? { trailer: behind } : {}),
  }, records);
}

export const PROTOCOL_NAMES: Readonly<Record<number, "carp" | "pfsync">> = {
  [CARP_PROTOCOL]: "carp",
  [IPPROTO_PFSYNC]: "pfsync",
};

/** Protocol decoders by IP protocol number. */
export const PROTOCOLS: Readonly<Record<number, ProtocolDecoder>> = {
  [CARP_PROTOCOL]: carpPacket,
  [IPPROTO_PFSYNC]: pfsyncPacket,
};
