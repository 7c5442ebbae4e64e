/**
 * The short fuzz run of CI: a few thousand generated inputs per decoder, each
 * bounded in time, through one pool of workers. Any escaped exception, hang,
 * slow input or state change from a rejected input fails the step and prints
 * the seed, the index and the input as hex. The seed is fixed so CI is
 * repeatable; FUZZ_SEED=0x… (or FUZZ_SEED=random) explores other inputs.
 * The long run (1,000,000 inputs a decoder) is bench/fuzz/run.ts.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { fuzzTarget, WorkerPool } from "./guard.ts";
import { formatSeed, freshSeed, parseSeed } from "./prng.ts";
import { formatFailure } from "./runner.ts";
import { TARGET_LIST } from "./targets/mod.ts";

const CI_SEED = 0x5eed2026;

function seedFromEnv(): number {
  const text = Deno.env.get("FUZZ_SEED");
  if (text === "random") return freshSeed();
  return parseSeed(text) ?? CI_SEED;
}

/** Inputs per target: the fast codecs get more, the parsers that cost ~1 ms an input fewer. */
const COUNTS: Record<string, number> = {
  "pfsync-frame": 6000,
  "pfsync": 4000,
  "carp": 4000,
  "ctnetlink": 5000,
  "ct-provider": 4000,
  "rtnetlink": 5000,
  "rc.conf": 4000,
  "sysctl": 4000,
  "yaml": 1500,
  "config": 1500,
  "pcap": 2000,
};

/**
 * Outcomes each target must have produced, so the run provably reached past
 * the first length check (a fuzzer that only feeds garbage tests nothing).
 */
const MUST_SEE: Record<string, readonly string[]> = {
  "pfsync-frame": ["ok", "badlen", "badver", "badact", "hdrops"],
  "pfsync": ["accepted", "badlen", "badauth", "badttl", "bus-ignored"],
  "carp": ["accepted", "badsum", "badvhid", "badauth", "badttl", "own"],
  "ctnetlink": ["whole:ok", "split:badlen"],
  "ct-provider": ["decoded:new", "decoded:destroy", "undecoded", "unsplit"],
  "rtnetlink": ["ok", "badlen"],
  "rc.conf": ["clean", "warnings", "errors"],
  "sysctl": ["clean", "warnings", "errors"],
  "yaml": ["clean", "errors"],
  "config": ["config", "errors"],
  "pcap": ["packets", "badmagic"],
};

Deno.test("fuzz: every decoder survives its short run", async (t) => {
  const seed = seedFromEnv();
  const pool = new WorkerPool();
  try {
    for (const target of TARGET_LIST) {
      await t.step(`${target.name}: ${target.covers}`, async () => {
        const count = COUNTS[target.name] ?? 2000;
        const report = await fuzzTarget(target.name, {
          seed,
          count,
          hangMs: 5_000,
          slowMs: 2_000,
          keep: 5,
        }, pool);
        const failures = report.failures.map((f) => formatFailure(f)).join("\n\n");
        assertEquals(
          report.failures.length + report.moreFailures,
          0,
          `${target.name} (seed ${formatSeed(seed)}):\n${failures}`,
        );
        assertEquals(report.inputs, count);
        for (const outcome of MUST_SEE[target.name] ?? []) {
          assert(
            (report.outcomes[outcome] ?? 0) > 0,
            `${target.name}: no input produced "${outcome}" (seed ${formatSeed(seed)}): ${
              JSON.stringify(report.outcomes)
            }`,
          );
        }
      });
    }
  } finally {
    pool.close();
  }
});
