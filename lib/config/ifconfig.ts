/**
 * The `ifconfig` arguments rc.conf hands to interfaces, as far as pfsyncd
 * cares: addresses (CIDR, `netmask` dotted or hex, `prefixlen`), `up`/`down`,
 * DHCP, CARP keywords (5.x `carpN` and FreeBSD 10+ `vhid` on an ordinary
 * interface) and pfsync0's keywords. Keywords that only matter to the kernel
 * (mtu, media, …) are accepted silently; unknown ones are warnings.
 */
import { type Cidr, netmaskToPrefix, parseCidr } from "../net/address.ts";
import type { DiagnosticSink, SourceRef } from "./diagnostics.ts";
import { CARP_STATES, type CarpState, LIMITS, type Located } from "./model.ts";
import type { RcWord } from "./rc_conf.ts";

/** `carp` = 5.x cloned carpN, `pfsync` = pfsync0, `plain` = everything else. */
export type IfconfigKind = "plain" | "carp" | "pfsync";

export interface IfAddress {
  cidr: Cidr;
  source: SourceRef;
  length: number;
}

/** The CARP keywords of one vhid, with where each was written. */
export interface CarpClause {
  vhid?: Located<number>;
  advbase?: Located<number>;
  advskew?: Located<number>;
  pass?: Located<string>;
  state?: Located<CarpState>;
  carpdev?: Located<string>;
  addresses: IfAddress[];
}

export interface PfsyncWords {
  syncif?: Located<string | undefined>;
  syncpeer?: Located<string | undefined>;
  maxupd?: Located<number>;
  defer?: Located<boolean>;
  up?: Located<boolean>;
}

export interface IfconfigResult {
  /** Addresses of the interface itself (not CARP). */
  addresses: IfAddress[];
  carp: CarpClause[];
  pfsync: PfsyncWords;
  dhcp: boolean;
  up?: boolean;
}

/** Kernel-only keywords taking one argument: consumed and ignored. */
const WITH_ARG = new Set(
  ("mtu media mediaopt -mediaopt mode metric ether lladdr description descr vlan vlandev " +
    "vlanpcp vlanproto laggproto laggport -laggport fib tunnelfib name group -group ssid " +
    "channel wlandev wlanmode country authmode wepmode wepkey weptxkey deftxkey txpower " +
    "broadcast pltime vltime scope maclabel").split(" "),
);
/** Kernel-only flags: accepted silently. */
const FLAGS = new Set(
  ("arp -arp promisc -promisc staticarp -staticarp monitor -monitor rxcsum -rxcsum txcsum " +
    "-txcsum rxcsum6 -rxcsum6 txcsum6 -txcsum6 tso -tso tso4 -tso4 tso6 -tso6 lro -lro " +
    "vlanmtu -vlanmtu vlanhwtag -vlanhwtag vlanhwfilter -vlanhwfilter vlanhwtso -vlanhwtso " +
    "polling -polling wol -wol wol_ucast wol_mcast wol_magic debug -debug link0 -link0 " +
    "link1 -link1 link2 -link2 wpa noauto ifdisabled -ifdisabled accept_rtadv " +
    "-accept_rtadv auto_linklocal -auto_linklocal no_radr -no_radr nud -nud autoconf " +
    "-autoconf anycast tentative -tentative deprecated -deprecated prefer_source " +
    "-prefer_source alias mcast mcast6").split(" "),
);
const DHCP = new Set(["dhcp", "syncdhcp", "nosyncdhcp"]);
const CARP_PARAMS = new Set(["advbase", "advskew", "pass", "state", "carpdev"]);
const ADDRESS_LIKE = /^[0-9a-fA-F:.]*[.:][0-9a-fA-F:.%a-zA-Z]*(\/\d+)?$/;

/** Classful default mask ifconfig applies to an IPv4 address given without one. */
function classfulPrefix(first: number): number {
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

export function parseIfconfig(
  words: readonly RcWord[],
  kind: IfconfigKind,
  sink: DiagnosticSink,
): IfconfigResult {
  const result: IfconfigResult = { addresses: [], carp: [], pfsync: {}, dhcp: false };
  const carpClause: CarpClause = { addresses: [] };
  if (kind === "carp") result.carp.push(carpClause);
  let clause: CarpClause | undefined = kind === "carp" ? carpClause : undefined;
  let family: 4 | 6 | undefined;
  let pending: { cidr: Cidr; source: SourceRef; length: number; explicit: boolean }[] = [];
  let mask: Located<number> | undefined;
  let maskWritten = false; // an invalid mask was already reported: no classful warning too

  const finishClause = () => {
    for (const a of pending) {
      let prefix = a.cidr.prefix;
      if (!a.explicit && mask) prefix = mask.value;
      else if (!a.explicit && a.cidr.family === 4) {
        prefix = classfulPrefix(a.cidr.address[0]);
        if (!maskWritten) {
          sink.warning(a.source, `no netmask given; ifconfig applies the classful /${prefix}`);
        }
      } else if (!a.explicit) prefix = 64;
      const address = { cidr: { ...a.cidr, prefix }, source: a.source, length: a.length };
      (clause ? clause.addresses : result.addresses).push(address);
    }
    pending = [];
    mask = undefined;
    maskWritten = false;
  };

  for (let k = 0; k < words.length; k++) {
    const word = words[k];
    const keyword = word.text.toLowerCase();
    const argument = (what: string): RcWord | undefined => {
      const next = words[k + 1];
      if (!next) sink.error(word.source, `'${word.text}' needs ${what}`, word.length);
      else k++;
      return next;
    };
    const number = (range: { min: number; max: number }): Located<number> | undefined => {
      const arg = argument("a number");
      if (!arg) return undefined;
      const value = /^\d{1,9}$/.test(arg.text) ? Number(arg.text) : NaN;
      if (!(value >= range.min && value <= range.max)) {
        sink.error(
          arg.source,
          `${keyword} must be a number from ${range.min} to ${range.max}, not '${arg.text}'`,
          arg.length,
        );
        return undefined;
      }
      return { value, source: arg.source };
    };

    if (keyword === "inet" || keyword === "inet6") {
      finishClause();
      family = keyword === "inet" ? 4 : 6;
      if (kind !== "carp") clause = undefined;
    } else if (keyword === "vhid" && kind !== "pfsync") {
      const vhid = number(LIMITS.vhid);
      if (kind === "plain") {
        finishClause();
        clause = { addresses: [] };
        result.carp.push(clause);
      }
      if (vhid && clause) clause.vhid = vhid;
    } else if (CARP_PARAMS.has(keyword) && kind !== "pfsync") {
      if (!clause) {
        sink.error(word.source, `'${keyword}' must come after 'vhid'`, word.length);
        k++;
      } else if (keyword === "advbase") clause.advbase = number(LIMITS.advbase) ?? clause.advbase;
      else if (keyword === "advskew") clause.advskew = number(LIMITS.advskew) ?? clause.advskew;
      else {
        const arg = argument(keyword === "pass" ? "a passphrase" : "a value");
        if (arg && keyword === "pass") clause.pass = { value: arg.text, source: arg.source };
        if (arg && keyword === "carpdev") clause.carpdev = { value: arg.text, source: arg.source };
        if (arg && keyword === "state") {
          const state = arg.text.toLowerCase() as CarpState;
          if (CARP_STATES.includes(state)) clause.state = { value: state, source: arg.source };
          else {
            sink.error(arg.source, `state must be master, backup or init, not '${arg.text}'`);
          }
        }
      }
    } else if (
      kind === "pfsync" &&
      pfsyncKeyword(keyword, word, result.pfsync, argument, number, (at, m) => sink.warning(at, m))
    ) {
      continue;
    } else if (keyword === "netmask" || keyword === "prefixlen") {
      const arg = argument(keyword === "netmask" ? "a mask" : "a length");
      maskWritten = true;
      if (!arg) continue;
      const prefix = keyword === "netmask"
        ? netmaskToPrefix(arg.text)
        : /^\d{1,3}$/.test(arg.text) && Number(arg.text) <= 128
        ? Number(arg.text)
        : undefined;
      if (prefix === undefined) sink.error(arg.source, `invalid ${keyword} '${arg.text}'`);
      else mask = { value: prefix, source: arg.source };
    } else if (keyword === "up" || keyword === "down") {
      result.up = keyword === "up";
      if (kind === "pfsync") result.pfsync.up = { value: result.up, source: word.source };
    } else if (DHCP.has(keyword)) {
      result.dhcp = true;
    } else if (keyword === "-alias" || keyword === "delete" || keyword === "remove") {
      sink.warning(word.source, `'${word.text}' removes an address; pfsyncd ignores it`);
    } else if (keyword === "peer" || keyword === "peer6") {
      sink.warning(word.source, `unicast CARP '${keyword}' is not supported; multicast is used`);
      k++;
    } else if (WITH_ARG.has(keyword)) {
      k++;
    } else if (FLAGS.has(keyword)) {
      continue;
    } else if (ADDRESS_LIKE.test(word.text)) {
      const cidr = parseCidr(word.text);
      if (!cidr) {
        sink.error(word.source, `invalid address '${word.text}'`, word.length);
      } else if (family !== undefined && cidr.family !== family) {
        const expected = family === 4 ? "an IPv4" : "an IPv6";
        sink.error(word.source, `expected ${expected} address, got '${word.text}'`, word.length);
      } else {
        const explicit = word.text.includes("/");
        pending.push({ cidr, source: word.source, length: word.length, explicit });
      }
    } else {
      sink.warning(word.source, `unknown ifconfig keyword '${word.text}' ignored`, word.length);
    }
  }
  finishClause();
  return result;
}

function pfsyncKeyword(
  keyword: string,
  word: RcWord,
  out: PfsyncWords,
  argument: (what: string) => RcWord | undefined,
  number: (range: { min: number; max: number }) => Located<number> | undefined,
  warn: (at: SourceRef, message: string) => void,
): boolean {
  const at = word.source;
  if (keyword === "syncif" || keyword === "syncdev") {
    const arg = argument("an interface name");
    if (arg) out.syncif = { value: arg.text, source: arg.source };
  } else if (keyword === "-syncif" || keyword === "-syncdev") {
    out.syncif = { value: undefined, source: at };
  } else if (keyword === "syncpeer") {
    const arg = argument("an IPv4 address");
    // 0.0.0.0 is how ifconfig spells "back to the multicast group".
    if (arg) {
      out.syncpeer = { value: arg.text === "0.0.0.0" ? undefined : arg.text, source: arg.source };
    }
  } else if (keyword === "-syncpeer") {
    out.syncpeer = { value: undefined, source: at };
  } else if (keyword === "maxupd") {
    out.maxupd = number(LIMITS.maxupd) ?? out.maxupd;
  } else if (keyword === "defer" || keyword === "-defer") {
    out.defer = { value: keyword === "defer", source: at };
  } else if (keyword === "version") {
    const arg = argument("a version");
    if (arg) {
      warn(arg.source, `pfsync 'version ${arg.text}' ignored: pfsyncd speaks protocol version 2`);
    }
  } else {
    return false;
  }
  return true;
}
