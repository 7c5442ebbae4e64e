/**
 * `pfctl -s state` text: one line a state — interface (or "self"), protocol,
 * the hosts (outbound `lan -> gwy -> ext`, inbound `lan <- gwy <- ext`, gwy
 * shown only when translated), then the peer states src:dst. `-v` adds a
 * second line with age, expiry, packets, bytes, id and creator id.
 */
import { formatEndpoint } from "./json.ts";
import type { State, StateHost } from "./types.ts";
import {
  formatCreatorId,
  formatStateId,
  IPPROTO_TCP,
  PEER_STATE_NAMES,
  PF_IN,
  protoName,
  TCP_STATE_NAMES,
  timeoutSeconds,
} from "./types.ts";

function sameHost(a: StateHost, b: StateHost): boolean {
  return a.addr === b.addr && a.port === b.port;
}

/** pfctl prints IPv6 endpoints as addr[port]. */
function endpoint(host: StateHost): string {
  return host.addr.includes(":") ? `${host.addr}[${host.port}]` : formatEndpoint(host);
}

export function formatPeerStates(state: State): string {
  const names = state.proto === IPPROTO_TCP ? TCP_STATE_NAMES : PEER_STATE_NAMES;
  const name = (v: number) => names[v] ?? String(v);
  return `${name(state.src.state)}:${name(state.dst.state)}`;
}

export function formatStateLine(state: State): string {
  const arrow = state.direction === PF_IN ? " <- " : " -> ";
  const hosts = [endpoint(state.lan)];
  if (!sameHost(state.lan, state.gwy)) hosts.push(endpoint(state.gwy));
  hosts.push(endpoint(state.ext));
  return `${state.ifname || "all"} ${protoName(state.proto)} ${hosts.join(arrow)}       ${
    formatPeerStates(state)
  }`;
}

/** hh:mm:ss, hours unbounded (pfctl style). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** Seconds until the state times out, from its timeout index and `idle` seconds without traffic. */
export function expiresIn(state: State, idle = 0): number {
  return Math.max(0, timeoutSeconds(state.timeout) + state.expire - idle);
}

/** `expires` overrides the expiry estimate (the table knows the idle time: `StateTable.idleSeconds`). */
export function formatStateVerbose(state: State, expires = expiresIn(state)): string {
  return `${formatStateLine(state)}\n   age ${formatDuration(state.creation)}, expires in ${
    formatDuration(expires)
  }, ${state.packets[0]}:${state.packets[1]} pkts, ${state.bytes[0]}:${state.bytes[1]} bytes, id: ${
    formatStateId(state.id)
  } creatorid: ${formatCreatorId(state.creatorId)}`;
}

export function formatStates(states: Iterable<State>, verbose = false): string {
  const lines: string[] = [];
  for (const state of states) {
    lines.push(verbose ? formatStateVerbose(state) : formatStateLine(state));
  }
  return lines.join("\n");
}
