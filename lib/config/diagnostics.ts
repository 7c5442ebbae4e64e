/**
 * Configuration diagnostics: every mistake a user can make in rc.conf,
 * sysctl.conf or the YAML file becomes one of these, printed the way
 * compilers do (`FILE:LINE:COL: error: message`, source line, caret) so
 * editors and humans can jump to it. Lines and columns count from 1; line 0
 * means "the file as a whole" (it could not be read at all).
 */

export type Severity = "error" | "warning";

export interface SourceRef {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface Diagnostic extends SourceRef {
  readonly severity: Severity;
  readonly message: string;
  /** Characters to underline after the caret; 1 when unknown. */
  readonly length?: number;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Collects diagnostics while a parser runs; `quiet` drops warnings (system defaults files). */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  constructor(private readonly quiet = false) {}

  error(at: SourceRef, message: string, length?: number): void {
    this.add("error", at, message, length);
  }

  warning(at: SourceRef, message: string, length?: number): void {
    if (!this.quiet) this.add("warning", at, message, length);
  }

  add(severity: Severity, at: SourceRef, message: string, length?: number): void {
    const { file, line, column } = at;
    this.items.push(
      length && length > 1
        ? { file, line, column, severity, message, length }
        : { file, line, column, severity, message },
    );
  }
}

/** `file:line:column` (or just `file` for whole-file problems), for messages naming a place. */
export function formatSourceRef(ref: SourceRef): string {
  return ref.line > 0 ? `${ref.file}:${ref.line}:${ref.column}` : ref.file;
}

/**
 * One diagnostic as text. With the file's text, the offending line follows
 * with a caret under the column; tabs before the column are kept so the caret
 * lines up in a terminal.
 */
export function formatDiagnostic(d: Diagnostic, sourceText?: string): string {
  const head = `${formatSourceRef(d)}: ${d.severity}: ${d.message}`;
  if (sourceText === undefined || d.line < 1) return head;
  const line = sourceText.split(/\r?\n/)[d.line - 1];
  if (line === undefined) return head;
  const prefix = Array.from(line.slice(0, d.column - 1), (c) => (c === "\t" ? "\t" : " "))
    .join("");
  const underline = "~".repeat(
    Math.max(0, Math.min(d.length ?? 1, line.length - d.column + 1) - 1),
  );
  return `${head}\n${line}\n${prefix}^${underline}`;
}
