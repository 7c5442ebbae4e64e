/**
 * Counters of the conntrack provider, shown by `pfsyncd status`. The names
 * follow conntrackd's runtime statistics where one exists (netlink overrun,
 * resync with kernel table) so operators can compare the two.
 */
import type { FilterVerdict } from "./filters.ts";

export interface ConntrackStats {
  /** Entry events read from the event socket. */
  events: number;
  /**
   * Events caused by our own injections (nlmsg_pid = our port) that reached
   * us and were not re-sent; with `kernelFilter` the kernel drops them first.
   */
  ownEvents: number;
  /** 1 when a socket filter drops our own injections' events in the kernel (0: in user space). */
  kernelFilter: number;
  /** Entries left out by the filters, in total and by reason. */
  filtered: number;
  filteredBy: Partial<Record<Exclude<FilterVerdict, "sync">, number>>;
  /** Entries without both tuples (cannot be mapped). */
  incomplete: number;
  /** Undecodable datagrams or messages (DecodeError), skipped. */
  malformed: number;
  /** ENOBUFS on the event socket: events were lost. */
  overruns: number;
  /** Full re-announcements after an overrun. */
  resyncs: number;
  /** Entries re-announced because traffic extended their timeout (no event for that). */
  refreshed: number;
  /**
   * What events failed to tell and a sweep put right: an entry no event
   * announced by the end of the sweep (a lost NEW), or one withdrawn because
   * the kernel confirmed it gone and no DESTROY said so (a lost DESTROY).
   * Grows only when events are lost.
   */
  repaired: number;
  /** Informational: entries a sliced sweep's dump announced before their event was read. */
  sweepRaced: number;
  /**
   * Informational: announced entries a sweep's dump left out although the
   * kernel still had them (a dump is not a snapshot); kept, never withdrawn.
   */
  sweepMissed: number;
  /** Value of net.netfilter.nf_conntrack_events at load time. */
  eventsSysctl: string;
}

export function emptyStats(): ConntrackStats {
  return {
    events: 0,
    ownEvents: 0,
    kernelFilter: 0,
    filtered: 0,
    filteredBy: {},
    incomplete: 0,
    malformed: 0,
    overruns: 0,
    resyncs: 0,
    refreshed: 0,
    repaired: 0,
    sweepRaced: 0,
    sweepMissed: 0,
    eventsSysctl: "unknown",
  };
}
