/** What one `deno task bench` run leaves behind (bench/out/last-run.json). */
import type { Recorded } from "./record.ts";

export interface SectionResult {
  readonly name: string;
  readonly status: "ok" | "failed" | "skipped";
  /** The section's Markdown. */
  readonly text: string;
  readonly seconds: number;
  /** When the section started (ISO); sections of a merged report come from different runs. */
  readonly started?: string;
  /** The knobs set when the section ran. */
  readonly knobs?: Record<string, string>;
  /** 1-minute load average when the section started. */
  readonly loadAtStart?: number;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly deno: string;
  readonly v8: string;
  readonly typescript: string;
  /** Peer name → its version line. */
  readonly peers: Record<string, string>;
  /** 1-minute load average when the run started. */
  readonly loadAtStart: number;
}

export interface RunRecord {
  readonly started: string;
  finished: string;
  readonly machine: Machine;
  /** The environment knobs that were set (empty = full-size run). */
  readonly knobs: Record<string, string>;
  /** Sections asked for on the command line (empty = all). */
  readonly only: string[];
  readonly sections: SectionResult[];
  readonly recorded: Recorded;
  /** True when sections were re-run into an earlier report (`deno task bench --merge …`). */
  merged?: boolean;
}
