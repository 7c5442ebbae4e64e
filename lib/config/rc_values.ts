/**
 * What the rc.conf reader produces: assignments whose every value character
 * remembers its file position, split into words for the ifconfig parser.
 */
import type { SourceRef } from "./diagnostics.ts";

export interface RcAssignment {
  readonly name: string;
  readonly value: string;
  /** Position of the variable name. */
  readonly source: SourceRef;
  /** One position per character of `value` (expansions point at their `$`). */
  readonly positions: readonly SourceRef[];
}

/** One whitespace-separated word of a value, for ifconfig-style parsing. */
export interface RcWord {
  readonly text: string;
  readonly source: SourceRef;
  readonly length: number;
}

export type RcVariables = Map<string, RcAssignment>;

const READ_PREFIXES = ["ifconfig_", "pfsync_", "pfsyncd_"];
const READ_NAMES = new Set(["cloned_interfaces", "network_interfaces", "rc_conf_files"]);

/** The variables pfsyncd takes its configuration from. */
export function isPfsyncdVariable(name: string): boolean {
  return READ_NAMES.has(name) || READ_PREFIXES.some((p) => name.startsWith(p));
}

/** Splits a value on blanks, keeping where each word starts. */
export function splitWords(a: RcAssignment): RcWord[] {
  const words: RcWord[] = [];
  const re = /[^ \t\n]+/g;
  for (let m = re.exec(a.value); m; m = re.exec(a.value)) {
    const first = a.positions[m.index];
    const last = a.positions[m.index + m[0].length - 1];
    const contiguous = last.line === first.line &&
      last.column - first.column === m[0].length - 1;
    words.push({ text: m[0], source: first, length: contiguous ? m[0].length : 1 });
  }
  return words;
}
