/**
 * Which conntrack entries are worth syncing — the analogue of pf's
 * `no-sync` and of conntrackd's `Filter { Protocol, Address, State }`.
 *
 * Always left out: loopback flows, and the host-to-host protocols of the HA
 * pair itself (CARP 112, pfsync 240), whose states make no sense elsewhere.
 * Left out by default: flows to or from the firewall's own addresses and the
 * sync link. "To or from" is judged on the original source and the reply
 * source: the firewall started the flow, or the firewall answers it. The
 * original destination is deliberately not checked, because a DNAT'ed flow
 * to a virtual address is forwarded traffic that must survive failover, and
 * the reply destination is not either, because masquerade (SNAT to the
 * firewall's address) is forwarded traffic too.
 *
 * A verdict names why an entry was skipped so the provider can count it.
 */
import { type Cidr, cidrContains, parseAddress, parseCidr } from "../../net/address.ts";
import { TCP_STATE_NAMES } from "../../netlink/ct_constants.ts";
import type { CtEntry } from "../../netlink/ct_types.ts";
import { protoNumber } from "../types.ts";

export type FilterVerdict =
  | "sync"
  | "loopback"
  | "ha-protocol"
  | "own-address"
  | "sync-link"
  | "protocol"
  | "address"
  | "tcp-state";

export interface ConntrackFilter {
  /** Protocols to sync; undefined = all. */
  readonly protocols?: ReadonlySet<number>;
  /** When non-empty, one end of the original tuple must lie in one of these. */
  readonly include: readonly Cidr[];
  /** An end of the original tuple in one of these skips the entry. */
  readonly exclude: readonly Cidr[];
  /** TCP states (ct numbering) to sync; undefined = all. */
  readonly tcpStates?: ReadonlySet<number>;
  /** The firewall's own addresses (interfaces, not the CARP virtual ones). */
  readonly ownAddresses: readonly Uint8Array[];
  /** Networks of the sync link(s). */
  readonly syncLinks: readonly Cidr[];
  /** true = also sync flows to/from own addresses and the sync link (off by default). */
  readonly syncOwn: boolean;
}

/** The configuration form: names and text, as pfsyncd.yaml would carry them. */
export interface ConntrackFilterConfig {
  readonly protocols?: readonly (string | number)[];
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly tcpStates?: readonly string[];
  readonly ownAddresses?: readonly string[];
  readonly syncLinks?: readonly string[];
  readonly syncOwn?: boolean;
}

const IPPROTO_CARP = 112;
const IPPROTO_PFSYNC = 240;

const LOOPBACK: readonly Cidr[] = [parseCidr("127.0.0.0/8")!, parseCidr("::1/128")!];

/** Syncs everything except loopback and the HA protocols; own addresses unknown. */
export const DEFAULT_FILTER: ConntrackFilter = {
  include: [],
  exclude: [],
  ownAddresses: [],
  syncLinks: [],
  syncOwn: false,
};

function cidrs(texts: readonly string[] | undefined, what: string): Cidr[] {
  return (texts ?? []).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) {
      throw new RangeError(`conntrack filter ${what}: "${text}" is not an address or CIDR`);
    }
    return cidr;
  });
}

/** Parses the configuration form; throws RangeError naming the bad value. */
export function buildFilter(config: ConntrackFilterConfig = {}): ConntrackFilter {
  const protocols = config.protocols?.map((p) => {
    const n = protoNumber(p);
    if (n === undefined) {
      throw new RangeError(`conntrack filter protocols: unknown protocol "${p}"`);
    }
    return n;
  });
  const tcpStates = config.tcpStates?.map((name) => {
    const n = TCP_STATE_NAMES.indexOf(name.toUpperCase().replace(/-/g, "_"));
    if (n < 0) {
      throw new RangeError(
        `conntrack filter tcpStates: unknown state "${name}" (one of ${
          TCP_STATE_NAMES.join(", ")
        })`,
      );
    }
    return n;
  });
  const ownAddresses = (config.ownAddresses ?? []).map((text) => {
    const parsed = parseAddress(text.split("/")[0]);
    if (!parsed) throw new RangeError(`conntrack filter ownAddresses: "${text}" is not an address`);
    return parsed.address;
  });
  return {
    protocols: protocols ? new Set(protocols) : undefined,
    include: cidrs(config.include, "include"),
    exclude: cidrs(config.exclude, "exclude"),
    tcpStates: tcpStates ? new Set(tcpStates) : undefined,
    ownAddresses,
    syncLinks: cidrs(config.syncLinks, "syncLinks"),
    syncOwn: config.syncOwn ?? false,
  };
}

function inAny(list: readonly Cidr[], address: Uint8Array): boolean {
  for (const cidr of list) if (cidrContains(cidr, address)) return true;
  return false;
}

function isOwn(list: readonly Uint8Array[], address: Uint8Array): boolean {
  outer: for (const own of list) {
    if (own.length !== address.length) continue;
    for (let i = 0; i < own.length; i++) if (own[i] !== address[i]) continue outer;
    return true;
  }
  return false;
}

/** The verdict for one entry; entries without an original tuple cannot be synced at all. */
export function filterEntry(filter: ConntrackFilter, entry: CtEntry): FilterVerdict {
  const orig = entry.orig;
  if (!orig) return "address";
  const replySrc = entry.reply?.src ?? orig.dst;
  if (inAny(LOOPBACK, orig.src) || inAny(LOOPBACK, orig.dst)) return "loopback";
  if (orig.proto === IPPROTO_CARP || orig.proto === IPPROTO_PFSYNC) return "ha-protocol";
  if (!filter.syncOwn) {
    if (isOwn(filter.ownAddresses, orig.src) || isOwn(filter.ownAddresses, replySrc)) {
      return "own-address";
    }
    if (inAny(filter.syncLinks, orig.src) || inAny(filter.syncLinks, replySrc)) return "sync-link";
  }
  if (filter.protocols && !filter.protocols.has(orig.proto)) return "protocol";
  if (inAny(filter.exclude, orig.src) || inAny(filter.exclude, orig.dst)) return "address";
  if (
    filter.include.length > 0 && !inAny(filter.include, orig.src) &&
    !inAny(filter.include, orig.dst)
  ) {
    return "address";
  }
  if (filter.tcpStates && orig.proto === 6 && entry.tcp?.state !== undefined) {
    if (!filter.tcpStates.has(entry.tcp.state)) return "tcp-state";
  }
  return "sync";
}
