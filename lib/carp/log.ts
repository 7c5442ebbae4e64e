/**
 * Log lines in the form operators grep for, e.g.
 * `carp: 1@eth1: BACKUP -> MASTER (master timed out)`: vhid@parent as
 * FreeBSD 10+ names a vhid, the old and new state, and why.
 */
import type { CarpStateName } from "./types.ts";

/**
 * Log levels, compared with `net.inet.carp.log` as FreeBSD 10+ does: errors
 * always, state changes from 1 (the default), dropped packets and debug from 2.
 * (5.4 logged bad packets from 1; per-packet lines at the default level would
 * flood the log every second, and the counters already show them.)
 */
export const LOG_ERROR = 0;
export const LOG_STATE = 1;
export const LOG_DEBUG = 2;
export type LogLevel = typeof LOG_ERROR | typeof LOG_STATE | typeof LOG_DEBUG;

/** Whether a line of `level` is wanted under `net.inet.carp.log` = `sysctlLog`. */
export function shouldLog(level: LogLevel, sysctlLog: number): boolean {
  return level === LOG_ERROR || level <= sysctlLog;
}

export function formatTransition(
  vhid: number,
  iface: string,
  from: CarpStateName,
  to: CarpStateName,
  reason: string,
): string {
  return `carp: ${vhid}@${iface}: ${from} -> ${to} (${reason})`;
}

export function formatVhostMessage(vhid: number, iface: string, message: string): string {
  return `carp: ${vhid}@${iface}: ${message}`;
}

/** A dropped packet: interface, the counter it went to, and the detail. */
export function formatDrop(iface: string, counter: string, detail: string): string {
  return `carp: ${iface}: dropped (${counter}): ${detail}`;
}
