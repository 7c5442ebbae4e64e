/**
 * The host's one demotion counter (5.4 `carp_suppress_preempt`, FreeBSD 10+
 * `demotion`), kept as named contributions so an operator can see why a host
 * is demoted and each cause can take back exactly what it added.
 *
 * A value is immutable; every change returns a new one. In 5.4 mode causes
 * add 1 each and only "total > 0" matters; in 10+ mode they add their factor
 * (240 by default) and the total is added to every advskew.
 */

export type DemotionReason = "link" | "senderr" | "pfsync" | "operator";

export interface DemotionEntry {
  readonly reason: DemotionReason;
  /** Which instance of the cause: an interface name, `vhid@iface`, a peer, "ctl". */
  readonly source: string;
  readonly amount: number;
}

export interface Demotion {
  readonly entries: readonly DemotionEntry[];
}

export const NO_DEMOTION: Demotion = { entries: [] };

export function demotionTotal(d: Demotion): number {
  return d.entries.reduce((sum, e) => sum + e.amount, 0);
}

/**
 * Adds `delta` to the (reason, source) contribution; a contribution that
 * reaches 0 disappears, so healing with the opposite delta leaves no trace.
 */
export function adjustDemotion(
  d: Demotion,
  reason: DemotionReason,
  source: string,
  delta: number,
): Demotion {
  if (delta === 0) return d;
  const index = d.entries.findIndex((e) => e.reason === reason && e.source === source);
  const amount = (index < 0 ? 0 : d.entries[index].amount) + delta;
  const rest = d.entries.filter((_, i) => i !== index);
  if (amount === 0) return { entries: rest };
  const entry = { reason, source, amount };
  if (index < 0) return { entries: [...rest, entry] };
  return { entries: [...rest.slice(0, index), entry, ...rest.slice(index)] };
}

/** Drops a cause entirely (its condition ended), whatever it had added. */
export function healDemotion(d: Demotion, reason: DemotionReason, source?: string): Demotion {
  const entries = d.entries.filter((e) =>
    !(e.reason === reason && (source === undefined || e.source === source))
  );
  return entries.length === d.entries.length ? d : { entries };
}

/** `link eth1 +1, pfsync bulk +1` for status output and logs. */
export function describeDemotion(d: Demotion): string {
  if (d.entries.length === 0) return "none";
  return d.entries.map((e) => `${e.reason} ${e.source} ${e.amount > 0 ? "+" : ""}${e.amount}`)
    .join(", ");
}
