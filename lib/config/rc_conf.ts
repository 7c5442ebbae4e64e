/**
 * rc.conf reader: the subset of sh that rc.conf files use, parsed and never
 * executed. Supported: `name=value` (several per line, `;` separated), single
 * and double quotes, backslash escapes and continuations, `#` comments, and
 * `$name`, `${name}`, `${name:-default}`, `${name-default}` expansion against
 * earlier assignments (across files, in order). Every value character keeps
 * the file position it came from, so later stages can point at one word.
 *
 * Anything else (control flow, functions, command substitution, `.`/source,
 * pipes, redirections) is reported as "unsupported shell construct" and
 * skipped: an error when it would set a variable pfsyncd reads, a warning
 * otherwise, because only then can the result differ from what rc(8) sees.
 */
import type { DiagnosticSink, SourceRef } from "./diagnostics.ts";
import { isPfsyncdVariable, type RcAssignment, type RcVariables } from "./rc_values.ts";

export { isPfsyncdVariable, splitWords } from "./rc_values.ts";
export type { RcAssignment, RcVariables, RcWord } from "./rc_values.ts";

const OPENERS: Record<string, string> = {
  if: "fi",
  for: "done",
  while: "done",
  until: "done",
  case: "esac",
  "{": "}",
  "(": ")",
};
const CLOSERS = new Set(Object.values(OPENERS));
const META = new Set(["|", "&", "<", ">", "(", ")"]);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;

interface Unsupported {
  at: number;
  what: string;
}

interface WordResult {
  value: string;
  positions: SourceRef[];
  unsupported?: Unsupported;
  /** A quote or brace was never closed: sh would reject the whole file. */
  broken?: boolean;
}

/**
 * Parses one rc.conf file, reading and extending `vars` (the variables set so
 * far, last assignment wins). Returns the assignments in file order.
 */
export function parseRcConf(
  text: string,
  file: string,
  vars: RcVariables,
  sink: DiagnosticSink,
  isRead: (name: string) => boolean = isPfsyncdVariable,
): RcAssignment[] {
  return new RcParser(text, file, vars, sink, isRead).parse();
}

class RcParser {
  private i = 0;
  private readonly lineStarts: number[] = [0];
  private readonly out: RcAssignment[] = [];

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly vars: RcVariables,
    private readonly sink: DiagnosticSink,
    private readonly isRead: (name: string) => boolean,
  ) {
    for (let k = 0; k < text.length; k++) if (text[k] === "\n") this.lineStarts.push(k + 1);
  }

  parse(): RcAssignment[] {
    const t = this.text;
    while (this.i < t.length) {
      this.skipBlanks();
      const c = t[this.i];
      if (c === undefined) break;
      if (c === "\n" || c === ";") this.i++;
      else if (c === "#") this.skipComment();
      else this.command();
    }
    return this.out;
  }

  pos(index: number): SourceRef {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, column: index - this.lineStarts[lo] + 1 };
  }

  private skipBlanks(): void {
    const t = this.text;
    for (;;) {
      if (t[this.i] === " " || t[this.i] === "\t" || t[this.i] === "\r") this.i++;
      else if (t[this.i] === "\\" && t[this.i + 1] === "\n") this.i += 2;
      else return;
    }
  }

  private skipComment(): void {
    while (this.i < this.text.length && this.text[this.i] !== "\n") this.i++;
  }

  private atCommandEnd(): boolean {
    const c = this.text[this.i];
    return c === undefined || c === "\n" || c === ";" || c === "#";
  }

  /** A simple command: leading assignments, committed only if no command word follows. */
  private command(): void {
    const pending: RcAssignment[] = [];
    for (;;) {
      this.skipBlanks();
      if (this.atCommandEnd()) break;
      const m = NAME_RE.exec(this.text.slice(this.i, this.i + 256));
      if (!m || this.text[this.i + m[0].length] !== "=") {
        this.unsupportedCommand(pending);
        return;
      }
      const nameAt = this.i;
      this.i += m[0].length + 1;
      const word = this.readWord((c) => " \t\r\n;".includes(c));
      if (word.broken) return;
      const assignment = {
        name: m[0],
        value: word.value,
        source: this.pos(nameAt),
        positions: word.positions,
      };
      if (word.unsupported) this.reportUnsupported(word.unsupported, [m[0]]);
      else pending.push(assignment);
    }
    for (const a of pending) {
      this.vars.set(a.name, a);
      this.out.push(a);
    }
  }

  private reportUnsupported(u: Unsupported, names: string[]): void {
    const read = names.filter((n) => this.isRead(n));
    const at = this.pos(u.at);
    const base = `unsupported shell construct: ${u.what}`;
    if (read.length > 0) {
      const list = read.map((n) => `'${n}'`).join(", ");
      this.sink.error(at, `${base}; pfsyncd cannot tell what it sets ${list} to`);
    } else {
      this.sink.warning(at, `${base}; ignored (pfsyncd never runs shell code)`);
    }
  }

  /** Skips a command, loop, group or function, then reports what it would have assigned. */
  private unsupportedCommand(pending: RcAssignment[]): void {
    const start = this.i;
    const names = pending.map((a) => a.name);
    const closers: string[] = [];
    let first: string | undefined;
    let braceFunction = false;
    let isFunction = false;
    for (;;) {
      this.skipBlanks();
      const c = this.text[this.i];
      if (c === undefined) break;
      if (c === "#") {
        this.skipComment();
        continue;
      }
      if (c === "\n" || c === ";") {
        this.i++;
        if (closers.length === 0 && !braceFunction) break;
        continue;
      }
      const wordAt = this.i;
      const raw = META.has(c) ? this.readMeta() : this.readRaw();
      first ??= raw;
      const assigned = NAME_RE.exec(raw);
      if (assigned && raw[assigned[0].length] === "=") names.push(assigned[0]);
      if (raw === "function" || (raw === "(" && this.text[this.i] === ")")) {
        braceFunction = isFunction = true;
      }
      if (Object.hasOwn(OPENERS, raw)) {
        closers.push(OPENERS[raw]);
        braceFunction = false;
      } else if (CLOSERS.has(raw) && closers[closers.length - 1] === raw) {
        closers.pop();
      }
      if (this.i === wordAt) this.i++;
    }
    const what = isFunction ? "function definition" : describe(first ?? "");
    this.reportUnsupported({ at: start, what }, names);
  }

  private readMeta(): string {
    const two = this.text.slice(this.i, this.i + 2);
    const op = ["&&", "||", ">>", "<<", "$("].includes(two) ? two : this.text[this.i];
    this.i += op.length;
    return op;
  }

  /** A word as written, quotes included, for skipping code. */
  private readRaw(): string {
    const start = this.i;
    this.readWord((c) => c === " " || c === "\t" || c === "\n" || c === ";" || META.has(c));
    return this.text.slice(start, this.i);
  }

  /** Reads one shell word up to an unquoted character `stop` accepts. */
  private readWord(stop: (c: string) => boolean): WordResult {
    const t = this.text;
    const r: WordResult = { value: "", positions: [] };
    const push = (s: string, at: number) => {
      r.value += s;
      for (let k = 0; k < s.length; k++) r.positions.push(this.pos(at));
    };
    while (this.i < t.length && !r.broken) {
      const c = t[this.i];
      if (stop(c)) break;
      if (c === "\\") {
        if (t[this.i + 1] !== "\n" && this.i + 1 < t.length) push(t[this.i + 1], this.i + 1);
        this.i += 2;
      } else if (c === "'") {
        const close = t.indexOf("'", this.i + 1);
        if (close < 0) return this.unterminated(r, "single quote");
        for (let k = this.i + 1; k < close; k++) push(t[k], k);
        this.i = close + 1;
      } else if (c === '"') {
        this.doubleQuoted(r, push);
      } else if (c === "$") {
        this.dollar(r, push);
      } else if (c === "`") {
        this.backticks(r);
      } else if (META.has(c)) {
        r.unsupported ??= { at: this.i, what: `'${c}'` };
        this.i++;
      } else {
        push(c, this.i++);
      }
    }
    return r;
  }

  private doubleQuoted(r: WordResult, push: (s: string, at: number) => void): void {
    const t = this.text;
    const open = this.i++;
    while (this.i < t.length && t[this.i] !== '"') {
      const c = t[this.i];
      if (c === "\\" && t[this.i + 1] === "\n") this.i += 2;
      // (`?? "\n"`, not `?? ""`: every string includes "", so a backslash at EOF pushed undefined.)
      else if (c === "\\" && '"\\$`'.includes(t[this.i + 1] ?? "\n")) {
        push(t[this.i + 1], this.i + 1);
        this.i += 2;
      } else if (c === "$") this.dollar(r, push);
      else if (c === "`") this.backticks(r);
      else push(c, this.i++);
      if (r.broken) return;
    }
    if (this.i >= t.length) {
      this.i = open;
      this.unterminated(r, "double quote");
      return;
    }
    this.i++;
  }

  private unterminated(r: WordResult, what: string): WordResult {
    this.sink.error(this.pos(this.i), `unterminated ${what}; sh would reject this file`);
    this.i = this.text.length;
    r.broken = true;
    return r;
  }

  private backticks(r: WordResult): void {
    r.unsupported ??= { at: this.i, what: "command substitution `...`" };
    const close = this.text.indexOf("`", this.i + 1);
    if (close < 0) this.unterminated(r, "backquote");
    else this.i = close + 1;
  }

  /** `$name`, `${name}`, `${name:-default}`, `${name-default}`; the rest is unsupported. */
  private dollar(r: WordResult, push: (s: string, at: number) => void): void {
    const t = this.text;
    const at = this.i;
    const next = t[at + 1] ?? "";
    if (next === "(") {
      r.unsupported ??= { at, what: "command substitution $(...)" };
      this.skipBalanced("(", ")", r);
      return;
    }
    if (next === "{") {
      this.braced(r, push);
      return;
    }
    const m = NAME_RE.exec(t.slice(at + 1, at + 257));
    if (m) {
      this.i = at + 1 + m[0].length;
      push(this.lookup(m[0]) ?? "", at);
    } else if (/^[0-9?$!#@*-]$/.test(next)) {
      r.unsupported ??= { at, what: `special parameter $${next}` };
      this.i += 2;
    } else {
      push("$", this.i++);
    }
  }

  private braced(r: WordResult, push: (s: string, at: number) => void): void {
    const t = this.text;
    const at = this.i;
    const m = NAME_RE.exec(t.slice(at + 2, at + 258));
    const after = m ? at + 2 + m[0].length : -1;
    const op = m ? (t.startsWith(":-", after) ? ":-" : t[after] === "-" ? "-" : t[after]) : "";
    if (!m || (op !== "}" && op !== ":-" && op !== "-")) {
      r.unsupported ??= { at, what: "parameter expansion ${...}" };
      this.skipBalanced("{", "}", r);
      return;
    }
    const current = this.lookup(m[0]);
    if (op === "}") {
      this.i = after + 1;
      push(current ?? "", at);
      return;
    }
    this.i = after + op.length;
    const fallback = this.readWord((c) => c === "}");
    if (fallback.unsupported) r.unsupported ??= fallback.unsupported;
    if (this.text[this.i] !== "}") {
      this.i = at;
      this.unterminated(r, "${");
      return;
    }
    this.i++;
    const useFallback = op === ":-" ? !current : current === undefined;
    if (!useFallback) push(current ?? "", at);
    else {
      r.value += fallback.value;
      r.positions.push(...fallback.positions);
    }
  }

  private skipBalanced(open: string, close: string, r: WordResult): void {
    const start = this.i;
    let depth = 0;
    for (; this.i < this.text.length; this.i++) {
      if (this.text[this.i] === open) depth++;
      else if (this.text[this.i] === close && --depth === 0) {
        this.i++;
        return;
      }
    }
    this.i = start;
    this.unterminated(r, open);
  }

  private lookup(name: string): string | undefined {
    return this.vars.get(name)?.value;
  }
}

function describe(word: string): string {
  if (word === "." || word === "source") {
    return `'${word}' (sourced files are not read; pass them with -f)`;
  }
  if (Object.hasOwn(OPENERS, word)) return `'${word}'`;
  if (word === "$(") return "command substitution $(...)";
  return `command '${word}'`;
}
