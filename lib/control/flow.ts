/**
 * Flows and endpoints as pfctl writes them: `tcp 192.0.2.10:1234 -> 198.51.100.7:80`,
 * IPv6 endpoints as `2001:db8::1[80]` (pfctl's form) or `[2001:db8::1]:80`.
 * The CLI parses `--flow` here and the agent parses import lines with the same
 * functions, so both sides agree on what a flow means.
 */
import { formatAddress, parseAddress } from "../net/address.ts";
import { ControlError, type FlowKey } from "./protocol.ts";

export interface Endpoint {
  address: Uint8Array;
  port: number;
}

/** Protocols a flow may name; pfctl prints these names. */
export const FLOW_PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  ipv6_icmp: 58,
  sctp: 132,
};

const PROTO_ALIASES: Readonly<Record<string, string>> = {
  icmp6: "ipv6_icmp",
  "ipv6-icmp": "ipv6_icmp",
};

export function normalizeProto(name: string): string {
  const lower = name.toLowerCase();
  const proto = PROTO_ALIASES[lower] ?? lower;
  if (!(proto in FLOW_PROTOCOLS)) {
    const known = Object.keys(FLOW_PROTOCOLS).join(", ");
    throw new ControlError("invalid_params", `unknown protocol "${name}" (one of ${known})`);
  }
  return proto;
}

export function parseEndpoint(text: string): Endpoint {
  const pfctl = /^([0-9A-Fa-f:.]+)\[(\d+)\]$/.exec(text);
  const bracketed = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(text);
  const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  const match = pfctl ?? bracketed ?? v4;
  if (!match) {
    throw new ControlError(
      "invalid_params",
      `endpoint "${text}" is not ADDRESS:PORT (IPv4) or ADDRESS[PORT] / [ADDRESS]:PORT (IPv6)`,
    );
  }
  const parsed = parseAddress(match[1]);
  if (!parsed) {
    throw new ControlError("invalid_params", `endpoint "${text}": "${match[1]}" is not an address`);
  }
  const address = parsed.address;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port > 65535) {
    throw new ControlError("invalid_params", `endpoint "${text}": port ${match[2]} is not 0-65535`);
  }
  return { address, port };
}

/** pfctl's endpoint form: `a.b.c.d:port`, `v6addr[port]`. */
export function formatEndpoint(endpoint: Endpoint): string {
  const address = formatAddress(endpoint.address);
  return endpoint.address.length === 4
    ? `${address}:${endpoint.port}`
    : `${address}[${endpoint.port}]`;
}

/** Validates and normalises a FlowKey (protocol name, endpoint spelling, families). */
export function normalizeFlow(flow: FlowKey): FlowKey {
  const proto = normalizeProto(flow.proto);
  const src = parseEndpoint(flow.src);
  const dst = parseEndpoint(flow.dst);
  if (src.address.length !== dst.address.length) {
    throw new ControlError("invalid_params", "flow mixes IPv4 and IPv6 endpoints");
  }
  return { proto, src: formatEndpoint(src), dst: formatEndpoint(dst) };
}

/** Parses `PROTO SRC -> DST` (the arrow may also be `<-` for inbound, as pfctl prints). */
export function parseFlow(text: string): FlowKey {
  const match = /^\s*(\S+)\s+(\S+)\s+(->|<-)\s+(\S+)\s*$/.exec(text);
  if (!match) {
    throw new ControlError(
      "invalid_params",
      `flow "${text}" is not "PROTO SRC -> DST", e.g. "tcp 192.0.2.10:1234 -> 198.51.100.7:80"`,
    );
  }
  const [, proto, left, arrow, right] = match;
  // pfctl prints inbound states as "dst <- src"; store them source-first.
  const [src, dst] = arrow === "->" ? [left, right] : [right, left];
  return normalizeFlow({ proto, src, dst });
}

export function formatFlow(flow: FlowKey): string {
  return `${flow.proto} ${flow.src} -> ${flow.dst}`;
}
