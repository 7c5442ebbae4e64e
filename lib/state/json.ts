/**
 * The JSON-lines form of a state: what `pfsyncd states --json` prints and
 * `pfsyncd states import` reads. `stateFromJson` also accepts the minimal
 * form {"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"} and
 * fills in pf-like defaults: outbound, bound to "self", both TCP peers
 * ESTABLISHED (UDP/other: MULTIPLE), the protocol's established timeout,
 * a new id and our creator id.
 */
import { isAddressText, isIPv4Text } from "./addr.ts";
import type { State, StateHost, StatePeer } from "./types.ts";
import {
  AF_INET,
  AF_INET6_FREEBSD,
  formatCreatorId,
  formatStateId,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  isInet6,
  NO_RULE,
  PEER_STATE_NAMES,
  PF_IN,
  PF_INOUT,
  PF_OUT,
  PFTM_ICMP_FIRST_PACKET,
  PFTM_OTHER_MULTIPLE,
  PFTM_TCP_ESTABLISHED,
  PFTM_UDP_MULTIPLE,
  PFUDPS_MULTIPLE,
  protoName,
  protoNumber,
  TCP_STATE_NAMES,
  TCPS_ESTABLISHED,
  ZERO_PEER,
} from "./types.ts";

export class StateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateFormatError";
  }
}

export interface JsonDefaults {
  readonly creatorId: number;
  readonly newId: () => bigint;
  /** AF_INET6 number for IPv6 states: 28 (FreeBSD, default) or 24. */
  readonly af6?: number;
}

/** pf-style ids: (seconds since the epoch) × 2^32 + a counter. */
export function createIdGenerator(nowMs: number = Date.now()): () => bigint {
  let next = BigInt(Math.floor(nowMs / 1000)) << 32n;
  return () => ++next;
}

const DIRECTIONS = ["inout", "in", "out"];

export function formatEndpoint(host: { addr: string; port: number }): string {
  return host.addr.includes(":") ? `[${host.addr}]:${host.port}` : `${host.addr}:${host.port}`;
}

/** "a.b.c.d:port", "[v6]:port", pfctl's "v6[port]", or a bare address (port 0). */
export function parseEndpoint(text: string): { addr: string; port: number } {
  let addr = text;
  let port = "0";
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([0-9a-fA-F:.]+)\[(\d+)\]$/.exec(text);
  if (bracket) [, addr, port] = bracket;
  else if (/^[\d.]+:\d+$/.test(text)) [addr, port] = text.split(":");
  const portNumber = Number(port);
  if (!isAddressText(addr) || !Number.isInteger(portNumber) || portNumber > 65535) {
    throw new StateFormatError(`bad endpoint ${JSON.stringify(text)}`);
  }
  return { addr, port: portNumber };
}

function peerStateNames(state: State): string {
  const names = state.proto === IPPROTO_TCP ? TCP_STATE_NAMES : PEER_STATE_NAMES;
  const name = (v: number) => names[v] ?? String(v);
  return `${name(state.src.state)}:${name(state.dst.state)}`;
}

export function stateToJson(state: State): Record<string, unknown> {
  const forward = state.direction === PF_IN ? [state.ext, state.lan] : [state.lan, state.ext];
  const json: Record<string, unknown> = {
    id: formatStateId(state.id),
    creatorid: formatCreatorId(state.creatorId),
    ifname: state.ifname,
    proto: protoName(state.proto),
    af: state.af,
    direction: DIRECTIONS[state.direction] ?? state.direction,
    src: formatEndpoint(forward[0]),
    dst: formatEndpoint(forward[1]),
    lan: formatEndpoint(state.lan),
    gwy: formatEndpoint(state.gwy),
    ext: formatEndpoint(state.ext),
    state: peerStateNames(state),
    peers: { src: state.src, dst: state.dst },
    rtAddr: state.rtAddr,
    rule: state.rule,
    anchor: state.anchor,
    natRule: state.natRule,
    age: state.creation,
    expire: state.expire,
    packets: state.packets,
    bytes: state.bytes,
    log: state.log,
    allowOpts: state.allowOpts,
    timeout: state.timeout,
    syncFlags: state.syncFlags,
    updates: state.updates,
  };
  const pads: Record<string, unknown> = {};
  for (const which of ["lan", "gwy", "ext"] as const) {
    if (state[which].pad) pads[which] = state[which].pad;
  }
  if (Object.keys(pads).length) json.hostPads = pads;
  return json;
}

function int(value: unknown, what: string, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw new StateFormatError(`${what} must be an integer 0–${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function hexId(value: unknown, what: string, bits: 32 | 64): bigint | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === "number" ? value.toString(16) : String(value).replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{1,16}$/.test(text) || (bits === 32 && text.length > 8)) {
    throw new StateFormatError(
      `${what} must be up to ${bits / 4} hex digits, got ${JSON.stringify(value)}`,
    );
  }
  return BigInt(`0x${text}`);
}

function peerFromJson(value: unknown, fallback: StatePeer, what: string): StatePeer {
  if (value === undefined) return fallback;
  if (typeof value !== "object" || value === null) {
    throw new StateFormatError(`${what} must be an object`);
  }
  const v = value as Record<string, unknown>;
  const peer: Record<string, unknown> = {
    seqlo: int(v.seqlo, `${what}.seqlo`, 0xffffffff, 0),
    seqhi: int(v.seqhi, `${what}.seqhi`, 0xffffffff, 0),
    seqdiff: int(v.seqdiff, `${what}.seqdiff`, 0xffffffff, 0),
    maxWin: int(v.maxWin, `${what}.maxWin`, 0xffff, 0),
    mss: int(v.mss, `${what}.mss`, 0xffff, 0),
    state: int(v.state, `${what}.state`, 255, fallback.state),
    wscale: int(v.wscale, `${what}.wscale`, 255, 0),
  };
  if (v.scrub !== undefined) peer.scrub = v.scrub;
  if (v.scrubFlag !== undefined) peer.scrubFlag = int(v.scrubFlag, `${what}.scrubFlag`, 255, 0);
  if (v.pad !== undefined) peer.pad = v.pad;
  return peer as unknown as StatePeer;
}

function defaultsFor(proto: number): { state: number; timeout: number } {
  if (proto === IPPROTO_TCP) return { state: TCPS_ESTABLISHED, timeout: PFTM_TCP_ESTABLISHED };
  if (proto === IPPROTO_UDP) return { state: PFUDPS_MULTIPLE, timeout: PFTM_UDP_MULTIPLE };
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    return { state: 0, timeout: PFTM_ICMP_FIRST_PACKET };
  }
  return { state: PFUDPS_MULTIPLE, timeout: PFTM_OTHER_MULTIPLE };
}

function direction(value: unknown): number {
  if (value === undefined) return PF_OUT;
  if (typeof value === "number" && [PF_INOUT, PF_IN, PF_OUT].includes(value)) return value;
  const index = DIRECTIONS.indexOf(String(value).toLowerCase());
  if (index < 0) {
    throw new StateFormatError(`direction must be in/out, got ${JSON.stringify(value)}`);
  }
  return index;
}

function host(value: unknown, what: string, pad?: unknown): StateHost {
  if (typeof value !== "string") {
    throw new StateFormatError(`${what} must be an "address:port" string`);
  }
  const endpoint = parseEndpoint(value);
  return pad === undefined ? endpoint : { ...endpoint, pad: pad as [number, number, number] };
}

/** Builds a State from either JSON form; throws StateFormatError naming the bad field. */
export function stateFromJson(input: unknown, defaults: JsonDefaults): State {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new StateFormatError("a state line must be a JSON object");
  }
  const v = input as Record<string, unknown>;
  const proto = protoNumber(v.proto as string | number);
  if (proto === undefined) throw new StateFormatError(`unknown proto ${JSON.stringify(v.proto)}`);
  const dir = direction(v.direction);
  const pads = (v.hostPads ?? {}) as Record<string, unknown>;
  let lan: StateHost, gwy: StateHost, ext: StateHost;
  if (v.lan !== undefined || v.ext !== undefined) {
    lan = host(v.lan, "lan", pads.lan);
    ext = host(v.ext, "ext", pads.ext);
    gwy = v.gwy === undefined ? lan : host(v.gwy, "gwy", pads.gwy);
  } else {
    const src = host(v.src, "src");
    const dst = host(v.dst, "dst");
    [lan, ext] = dir === PF_IN ? [dst, src] : [src, dst];
    gwy = lan;
  }
  const v4 = isIPv4Text(lan.addr);
  if (v4 !== isIPv4Text(ext.addr) || v4 !== isIPv4Text(gwy.addr)) {
    throw new StateFormatError("lan, gwy and ext must be of one address family");
  }
  const af = int(v.af, "af", 255, v4 ? AF_INET : defaults.af6 ?? AF_INET6_FREEBSD);
  if (af !== AF_INET && !isInet6(af) && v.af === undefined) throw new StateFormatError("bad af");
  const base = defaultsFor(proto);
  const peers = (v.peers ?? {}) as Record<string, unknown>;
  const fallback = { ...ZERO_PEER, state: base.state };
  const ifname = v.ifname === undefined ? "self" : String(v.ifname);
  if (ifname.length > 15) throw new StateFormatError(`ifname longer than 15 characters: ${ifname}`);
  const id = hexId(v.id, "id", 64) ?? defaults.newId();
  const creator = hexId(v.creatorid, "creatorid", 32);
  const pair = (value: unknown, what: string): [number, number] => {
    if (value === undefined) return [0, 0];
    if (!Array.isArray(value) || value.length !== 2) {
      throw new StateFormatError(`${what} must be [n, n]`);
    }
    return [int(value[0], what, 0xffffffff, 0), int(value[1], what, 0xffffffff, 0)];
  };
  return {
    id,
    creatorId: creator === undefined ? defaults.creatorId >>> 0 : Number(creator),
    ifname,
    lan,
    gwy,
    ext,
    src: peerFromJson(peers.src, fallback, "peers.src"),
    dst: peerFromJson(peers.dst, fallback, "peers.dst"),
    rtAddr: v.rtAddr === undefined ? (v4 ? "0.0.0.0" : "::") : String(v.rtAddr),
    rule: int(v.rule, "rule", 0xffffffff, NO_RULE),
    anchor: int(v.anchor, "anchor", 0xffffffff, NO_RULE),
    natRule: int(v.natRule, "natRule", 0xffffffff, 0),
    creation: int(v.age, "age", 0xffffffff, 0),
    expire: int(v.expire, "expire", 0xffffffff, 0),
    packets: pair(v.packets, "packets"),
    bytes: pair(v.bytes, "bytes"),
    af,
    proto,
    direction: dir,
    log: int(v.log, "log", 255, 0),
    allowOpts: int(v.allowOpts, "allowOpts", 255, 0),
    timeout: int(v.timeout, "timeout", 255, base.timeout),
    syncFlags: int(v.syncFlags, "syncFlags", 255, 0),
    updates: int(v.updates, "updates", 255, 0),
  };
}
