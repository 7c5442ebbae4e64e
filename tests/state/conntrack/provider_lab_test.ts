/**
 * The real kernel: ConntrackProvider inside a throwaway network namespace,
 * checked with the conntrack tool (see fixtures/provider_in_netns.ts).
 */
import { labTest } from "../../lab/lab.ts";
import { assert } from "../../helpers/assert.ts";

interface Step {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: unknown;
}

/** The fixtures print one JSON object per step; anything else on stdout is ignored. */
function parseSteps(stdout: string): Step[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Step);
}

const FIXTURE = new URL("./fixtures/provider_in_netns.ts", import.meta.url);

labTest(
  "ConntrackProvider in a namespace: create, NAT, update, delete, conntrack -I/-D events",
  async (lab) => {
    const ns = await lab.namespace("ct");
    const result = await ns.runDeno(FIXTURE, [], { timeoutMs: 45_000 });
    const steps = result.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l) as { step: string; ok: boolean; detail: unknown }
    );
    const failed = steps.filter((s) => !s.ok);
    assert(
      result.success && failed.length === 0 && steps.at(-1)?.step === "done",
      `fixture failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  },
  { timeoutMs: 60_000 },
);

const OVERRUN = new URL("./fixtures/overrun_in_netns.ts", import.meta.url);

labTest(
  "ConntrackProvider in a namespace: ENOBUFS counted, resync repairs creates and a flush",
  async (lab) => {
    const ns = await lab.namespace("ctovr");
    const result = await ns.runDeno(OVERRUN, ["3000", "5000"], { timeoutMs: 45_000 });
    const steps = parseSteps(result.stdout);
    assert(
      result.success && steps.every((s) => s.ok) && steps.at(-1)?.step === "done",
      `fixture failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
    const rate = steps.find((s) => s.step === "inject peer states")?.detail;
    console.log(`peer-state injection in the lab: ${JSON.stringify(rate)}`);
  },
  { timeoutMs: 60_000 },
);
