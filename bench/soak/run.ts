/**
 * Issue 8's soak run: two agents (A MASTER, B BACKUP) on a sync link with
 * 100,000 live states churning on A for a configurable time (default
 * 30 min). Every 10 s it samples both agents' RSS, CPU and table sizes; at
 * the end it compares the tables and the error counters. Memory must stay
 * flat after the warm-up and no error counter may grow without cause.
 *
 * Providers:
 *   conntrack (default)  real kernel conntrack entries in each firewall's
 *                        namespace, churned through ctnetlink (conntrack.ts)
 *   memory               states imported and changed through the control
 *                        socket (memory.ts)
 *
 *   deno run -A bench/soak/run.ts [--minutes N] [--states N] [--provider conntrack|memory]
 *   PFSYNCD_SOAK_MINUTES=N, PFSYNCD_SOAK_PROVIDER=… (when run from bench/run.ts)
 *
 * Writes the RSS curve as an SVG line chart to bench/out/soak-rss.svg.
 */
import { labSkipReason } from "../../tests/lab/lab.ts";
import { runConntrackSoak } from "./conntrack.ts";
import { runMemorySoak } from "./memory.ts";

export { rssSvg } from "./common.ts";

export type SoakProvider = "conntrack" | "memory";

export interface SoakOptions {
  readonly minutes?: number;
  readonly states?: number;
  readonly sampleMs?: number;
  readonly provider?: SoakProvider;
}

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : undefined;
}

function argNumber(name: string): number | undefined {
  const v = argValue(name);
  return v === undefined ? undefined : Number(v);
}

function providerOf(text: string | undefined): SoakProvider | undefined {
  if (text === undefined) return undefined;
  if (text === "conntrack" || text === "memory") return text;
  throw new Error(`soak: unknown provider "${text}" (conntrack or memory)`);
}

export async function runSoakBench(options: SoakOptions = {}): Promise<string> {
  const skip = labSkipReason();
  if (skip) return `## soak\n\nnot run: ${skip}\n`;
  const minutes = options.minutes ?? Number(Deno.env.get("PFSYNCD_SOAK_MINUTES") ?? 30);
  const states = options.states ?? 100_000;
  const sampleMs = options.sampleMs ?? 10_000;
  const provider = options.provider ?? providerOf(Deno.env.get("PFSYNCD_SOAK_PROVIDER")) ??
    "conntrack";
  if (!(minutes > 0) || !(states > 0)) {
    throw new Error(`soak: minutes and states must be positive (${minutes}, ${states})`);
  }
  return provider === "memory"
    ? await runMemorySoak({ minutes, states, sampleMs })
    : await runConntrackSoak({ minutes, states, sampleMs });
}

if (import.meta.main) {
  console.log(
    await runSoakBench({
      minutes: argNumber("--minutes"),
      states: argNumber("--states"),
      provider: providerOf(argValue("--provider")),
    }),
  );
}
