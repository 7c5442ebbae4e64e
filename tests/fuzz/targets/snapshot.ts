/** Snapshots and diffs for the "no state change from a rejected input" checks. */
import { toHex } from "../../../lib/bytes/hex.ts";
import type { StateTable } from "../../../lib/state/table.ts";
import { invariant } from "../target.ts";

/** JSON that also renders bigint, byte arrays and maps (key order as inserted). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v instanceof Uint8Array) return `hex:${toHex(v)}`;
    if (v instanceof Map) return { map: [...v.entries()] };
    if (v instanceof Set) return { set: [...v.values()] };
    return v;
  });
}

/** Like stableJson, with object keys sorted: for values whose key order carries no meaning. */
export function canonicalJson(value: unknown): string {
  return stableJson(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

/** Every state with its origin and stored wire record, in slot order. */
export function tableSnapshot(table: StateTable): string {
  const rows: string[] = [];
  for (const state of table.states()) {
    rows.push(stableJson([state, table.originOf(state)]));
  }
  return rows.join("\n");
}

/**
 * Counters may change only as `allowed` says (name → delta); any other
 * difference is an invariant failure naming the counter.
 */
export function checkCounters(
  what: string,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
  allowed: Readonly<Record<string, number>>,
): void {
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const delta = (after[name] ?? 0) - (before[name] ?? 0);
    const want = allowed[name] ?? 0;
    invariant(
      delta === want,
      () => `${what}: counter ${name} changed by ${delta}, expected ${want}`,
    );
  }
}
