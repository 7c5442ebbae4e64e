/**
 * The fuzz harness itself: inputs are a pure function of (seed, index), the
 * mutators stay in bounds, and each failure kind — an escaping exception, a
 * hang, a state change from a rejected input — is caught, with the input.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import { fuzzTarget, WorkerPool } from "./guard.ts";
import { MAX_INPUT, mutateBytes, mutateText } from "./mutate.ts";
import { inputRng, parseSeed, Rng } from "./prng.ts";
import { replayInput } from "./runner.ts";
import { corpusOf, generateInput } from "./target.ts";
import { TARGET_LIST, TARGETS } from "./targets/mod.ts";

const BROKEN = new URL("./testdata/broken_targets.ts", import.meta.url).href;
const LEAKY = new URL("./testdata/leaky_targets.ts", import.meta.url).href;

Deno.test("Rng is deterministic per (seed, stream) and differs across streams", () => {
  const a = new Rng(7, 3);
  const b = new Rng(7, 3);
  const c = new Rng(7, 4);
  const xs = Array.from({ length: 8 }, () => a.u32());
  assertEquals(Array.from({ length: 8 }, () => b.u32()), xs);
  assert(Array.from({ length: 8 }, () => c.u32()).some((x, i) => x !== xs[i]));
  const r = inputRng(1, 2);
  for (let i = 0; i < 1000; i++) {
    const v = r.int(10);
    assert(v >= 0 && v < 10 && Number.isInteger(v), `int(10) gave ${v}`);
  }
  assertEquals([parseSeed("0x10"), parseSeed("16"), parseSeed(""), parseSeed("zz")], [
    16,
    16,
    undefined,
    undefined,
  ]);
});

Deno.test("generateInput() regenerates the same input from (seed, index) for every target", () => {
  for (const target of TARGET_LIST) {
    const corpus = corpusOf(target);
    for (const index of [0, 1, 977, 123_456]) {
      const once = toHex(generateInput(corpus, 0xfeed, index));
      assertEquals(toHex(generateInput(corpus, 0xfeed, index)), once, `${target.name} #${index}`);
    }
    const distinct = new Set(
      Array.from({ length: 64 }, (_, i) => toHex(generateInput(corpus, 0xfeed, i))),
    );
    assert(distinct.size > 40, `${target.name}: only ${distinct.size} distinct inputs of 64`);
  }
});

Deno.test("mutateBytes() and mutateText() change inputs and stay under MAX_INPUT", () => {
  const seed = fromHex("0200020100000000000000000000000000000000");
  const pool = [seed, new Uint8Array(MAX_INPUT - 8)];
  let changed = 0;
  for (let i = 0; i < 1000; i++) {
    const rng = new Rng(99, i);
    const out = mutateBytes(seed, rng, pool);
    assert(out.length <= MAX_INPUT);
    if (toHex(out) !== toHex(seed)) changed++;
    const text = mutateText(new TextEncoder().encode("a=1\nb=2\n"), rng, [seed], {
      tokens: ["x"],
    });
    assert(text.length <= MAX_INPUT);
  }
  assert(changed > 900, `only ${changed} of 1000 mutations changed the seed`);
});

Deno.test("fuzzTarget() reports each kind of failure with its input", async (t) => {
  // One pool for every step: under `deno test` each new worker is type-checked (~2 s).
  const pool = new WorkerPool();
  try {
    await t.step("an exception escaping a decoder, with seed, index and input", async () => {
      const report = await fuzzTarget("throws", {
        seed: 5,
        count: 3000,
        module: BROKEN,
        keep: 3,
      }, pool);
      assertEquals(report.inputs, 3000);
      assert(report.failures.length > 0, "the TypeError was not reported");
      const f = report.failures[0];
      assertEquals(f.kind, "exception");
      assert(f.message.startsWith("TypeError"), f.message);
      assert(f.hex.startsWith("ff"), `failing input ${f.hex} does not start with ff`);
      // The reported input is the one (seed, index) regenerates.
      const again = await replayInput((await import(BROKEN)).TARGETS.throws, f.seed, f.index);
      assertEquals(toHex(again.input), f.hex);
      assertEquals(again.failure?.kind, "exception");
    });

    await t.step("a pfsync table change after a rejected packet", async () => {
      const report = await fuzzTarget("pfsync-leaks", { seed: 3, count: 300, module: LEAKY }, pool);
      assert(report.failures.length > 0, "the leaked insert was not noticed");
      assertEquals(report.failures[0].kind, "invariant");
      const message = report.failures[0].message;
      assert(/rejected \(.*\) but the table/.test(message), message);
    });

    await t.step("a CARP state change after a dropped packet", async () => {
      const report = await fuzzTarget("carp-leaks", { seed: 3, count: 300, module: LEAKY }, pool);
      assert(report.failures.length > 0, "the forced transition was not noticed");
      assertEquals(report.failures[0].kind, "invariant");
      assert(report.failures[0].message.includes("dropped ("), report.failures[0].message);
    });

    await t.step("an input slower than the bound, confirmed on a fresh instance", async () => {
      const report = await fuzzTarget("slow", {
        seed: 2,
        count: 30,
        module: BROKEN,
        slowMs: 30,
        keep: 2,
      }, pool);
      const slow = report.failures.filter((f) => f.kind === "slow");
      assert(slow.length > 0, "no slow input was reported");
      for (const f of slow) assert(f.hex.startsWith("01"), `slow on ${f.hex}`);
      assertEquals(report.failures.length + report.moreFailures, report.outcomes.slow);
    });

    // Last: the hung worker is terminated, the run resumes on a new one.
    await t.step("a hang: the input is reported and the run resumes after it", async () => {
      const report = await fuzzTarget("hangs", {
        seed: 11,
        count: 150,
        module: BROKEN,
        hangMs: 200,
      }, pool);
      const hangs = report.failures.filter((f) => f.kind === "hang");
      assert(hangs.length > 0, "no hang was reported");
      for (const h of hangs) assert(h.hex.startsWith("0000"), `hung on ${h.hex}`);
      assertEquals(report.inputs, 150, "the run did not resume after the hang");
      assertEquals(report.outcomes.HUNG, hangs.length);
    });
  } finally {
    pool.close();
  }
});

Deno.test("every fuzz target is registered under its own name and has seeds", () => {
  for (const t of TARGET_LIST) {
    assertEquals(TARGETS[t.name], t);
    assert(corpusOf(t).seeds.length > 0);
  }
});
