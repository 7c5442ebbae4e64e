import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import type { RunRecord, SectionResult } from "../../bench/report/model.ts";
import {
  cell,
  markdownTables,
  msIn,
  numberIn,
  ratioText,
  summaryMarkdown,
  summaryRows,
  tableWith,
} from "../../bench/report/summary.ts";
import { pickSeries, plots, representative } from "../../bench/report/plots.ts";
import type { FailoverTrace, Recorded } from "../../bench/report/record.ts";

function run(sections: SectionResult[], recorded: Partial<Recorded> = {}): RunRecord {
  return {
    started: "2026-01-01T00:00:00.000Z",
    finished: "2026-01-01T00:30:00.000Z",
    machine: {
      cpu: "test",
      cores: 2,
      memoryGiB: 4,
      kernel: "linux",
      deno: "2",
      v8: "1",
      typescript: "5",
      peers: {},
      loadAtStart: 0,
    },
    knobs: {},
    only: [],
    sections,
    recorded: { failover: [], series: [], figures: {}, ...recorded },
  };
}

const ok = (name: string, text: string): SectionResult => ({
  name,
  status: "ok",
  text,
  seconds: 1,
});

const rowOf = (r: RunRecord, start: string) => {
  const row = summaryRows(r).find((x) => x.figure.startsWith(start));
  assert(row, `no summary row "${start}…"`);
  return row;
};

Deno.test("markdownTables() reads every table as rows keyed by header", () => {
  const text =
    "intro\n\n| a | b c |\n|---|---:|\n| 1 | 2 ms |\n| x | |\n\ntext\n| z |\n| --- |\n| 9 |\n";
  assertEquals(markdownTables(text), [[{ a: "1", "b c": "2 ms" }, { a: "x", "b c": "" }], [{
    z: "9",
  }]]);
  assertEquals(cell(tableWith(text, "b")![0], "b"), "2 ms");
  assertEquals(tableWith(text, "nope"), undefined);
});

Deno.test("msIn() and numberIn() read the first figure of a cell", () => {
  assertEquals(msIn("healed in 1,234 ms (5 runs)"), 1234);
  assert(Number.isNaN(msIn("never")));
  assertEquals(numberIn("0 (−0 / +0 / ~0)"), 0);
  assertEquals(numberIn("1,000,000"), 1_000_000);
  assertEquals(ratioText(2, 4), "0.50×");
  assertEquals(ratioText(1, 0), "—");
});

Deno.test("summaryRows() judges CARP failover from the recorded medians", () => {
  const medians = (pfsyncdKill: number, pfsyncdTerm: number) => ({
    pfsyncd: { killSilence: pfsyncdKill, killTake: 3, termTake: pfsyncdTerm },
    ucarp: { killSilence: 4.2, killTake: 3.6, termTake: 3.6 },
    keepalived: { killSilence: 3.39, killTake: 2.6, termTake: 0.39 },
  });
  const fig = (kill: number, term: number) => ({
    "carp-failover": { reps: 3, masterDownS: 3.390625, targetMs: 50, medians: medians(kill, term) },
  });
  const good = run([], { figures: fig(3.394, 0.002) });
  assertEquals(rowOf(good, "CARP, SIGKILL").met, true);
  assertStringIncludes(rowOf(good, "CARP, SIGKILL").pfsyncd, "+3.4 ms past master-down");
  assertEquals(rowOf(good, "CARP, SIGTERM").met, true);
  assertEquals(rowOf(good, "CARP, SIGTERM").ratio, "0.0006× / 0.0051×");
  const late = run([], { figures: fig(3.5, 0.06) });
  assertEquals(rowOf(late, "CARP, SIGKILL").met, false);
  assertEquals(rowOf(late, "CARP, SIGTERM").met, false);
});

Deno.test("summaryRows() says why a figure is missing", () => {
  const failed: SectionResult = { name: "carp-failover", status: "failed", text: "x", seconds: 1 };
  const r = run([failed]);
  assertEquals(rowOf(r, "CARP takeover after SIGKILL").pfsyncd, "section failed");
  assertEquals(rowOf(r, "CARP takeover after SIGKILL").met, undefined);
  assertEquals(rowOf(r, "soak").pfsyncd, "section not run");
});

Deno.test("summaryRows() reads the codec, fuzz, soak and fault tables", () => {
  const codec = "Target: at least 1,000,000 records/s each way.\n\n" +
    "| record | encode records/s | decode records/s | target met |\n|---|---:|---:|---|\n" +
    "| UPD, IPv4 | 1,500,000 | 900,000 | no |\n";
  const fuzz = "| decoder | drives | inputs | inputs/s | time | failures | most |\n" +
    "|---|---|---:|---:|---:|---:|---|\n| pfsync | x | 1,000,000 | 5 | 1 s | 0 | y |\n" +
    "| carp | x | 1,200,000 | 5 | 1 s | 0 | y |\n";
  const soak = "churning for 30 min: …\n- RSS growth, last third vs middle third: A 1.5 %, B " +
    "-2.0 % (no growth)\n- error counters grown during the run: none\n";
  const faults = [
    "One bulk update of the table took 800 ms. Difference",
    "",
    "| loss | churn rounds | largest difference | left 5 s after the loss, no resync | `resync`: every state of A on B after | left after resync (extra = lost deletes) |",
    "| ---: | ---: | --- | --- | ---: | --- |",
    "| 1 % | 100 | 5 (−5 / +0 / ~0) | none (healed in 300 ms) | not needed | 0 (−0 / +0 / ~0) |",
    "| 30 % | 100 | 50 (−40 / +10 / ~0) | 20 (−10 / +10 / ~0) | 700 ms | 0 (−0 / +0 / ~0) |",
    "",
    "| product | cut → second MASTER (median) | healed → one MASTER (median, all runs) | ratio to ucarp | why |",
    "| --- | ---: | --- | ---: | --- |",
    "| pfsyncd | 3400 ms | 900 ms (900, 800, 1000) | 0.5 | x |",
    "| ucarp 1.5.2 | 3400 ms | 1800 ms (1800) | 1.00 | y |",
    "",
  ].join("\n");
  const r = run([
    ok("pfsync-codec", codec),
    ok("fuzz", fuzz),
    ok("soak", soak),
    ok("faults", faults),
  ]);
  const c = rowOf(r, "pfsync codec, UPD, IPv4");
  assertEquals([c.pfsyncd, c.met], ["1,500,000 / 900,000", false]);
  assertEquals(rowOf(r, "fuzzing").pfsyncd, "1,000,000 / 0");
  assertEquals(rowOf(r, "fuzzing").met, true);
  assertEquals(rowOf(r, "soak, 30 min").met, true);
  const loss = rowOf(r, "sync-link loss");
  assertStringIncludes(loss.pfsyncd, "700 ms");
  assertEquals(loss.met, true);
  // Judged against one bulk-update time (plus 50 ms of polling): 700 ms after a 600 ms bulk misses.
  const slower = run([ok("faults", faults.replace("took 800 ms", "took 600 ms"))]);
  assertEquals(rowOf(slower, "sync-link loss").met, false);
  const tight = run([ok("faults", faults.replace("took 800 ms", "took 650 ms"))]);
  assertEquals(rowOf(tight, "sync-link loss").met, true);
  const split = rowOf(r, "two masters");
  assertEquals([split.pfsyncd, split.peer, split.ratio, split.met], [
    "900 ms",
    "ucarp 1,800 ms",
    "0.50×",
    true,
  ]);
  const md = summaryMarkdown(summaryRows(r));
  assertStringIncludes(md, "| pfsync codec, UPD, IPv4: records/s encode / decode | 5 |");
  assertStringIncludes(md, "| **no** |");
});

Deno.test("plots: the median run is drawn, and series are matched by the largest N", () => {
  const trace = (t: number): FailoverTrace => ({
    product: "pfsyncd",
    signal: "SIGKILL",
    masterDownS: 3.39,
    oldAdverts: [-1, 0 - 0.2],
    newAdverts: [t],
    killToTakeover: t,
    silence: t + 0.2,
  });
  assertEquals(representative([trace(3.3), trace(2.9), trace(3.1)])?.killToTakeover, 3.1);
  assertEquals(representative([]), undefined);
  const s = (system: string, n: number) => ({
    kind: "live" as const,
    system,
    n,
    points: [[0, 0], [1, n]] as [number, number][],
  });
  const picked = pickSeries(
    [
      s("pfsyncd", 10),
      s("conntrackd", 10),
      s("pfsyncd", 100),
      s("conntrackd", 100),
      s("kernel", 7),
    ],
    "live",
  );
  assertEquals(picked.map((x) => `${x.system} ${x.n}`), ["pfsyncd 100", "conntrackd 100"]);
  const files = plots({ failover: [trace(3.1)], series: [s("pfsyncd", 100)], figures: {} });
  assertEquals([...files.keys()], ["failover-timeline.svg", "sync-live.svg"]);
});
