import { assertEquals } from "../helpers/assert.ts";
import { type CountSeries, mergeRecorded, type Recorded } from "../../bench/report/record.ts";

const series = (section: string | undefined, kind: CountSeries["kind"], system: string) => ({
  ...(section ? { section } : {}),
  kind,
  system,
  n: 10,
  points: [[0, 0], [1, 10]] as [number, number][],
});

const trace = (section: string | undefined, product: string) => ({
  ...(section ? { section } : {}),
  product,
  signal: "SIGKILL",
  masterDownS: 3,
  oldAdverts: [-1],
  newAdverts: [3],
  killToTakeover: 3,
  silence: 4,
});

Deno.test("mergeRecorded keeps what no re-run section replaces, tagged or not", () => {
  const earlier: Recorded = {
    failover: [trace(undefined, "pfsyncd"), trace("carp-failover", "ucarp")],
    series: [
      series(undefined, "bulk", "pfsyncd"),
      series(undefined, "live", "kernel"),
      series("pfsync-sync", "bulk", "conntrackd"),
    ],
    figures: { "pfsync-sync": { a: 1 }, conntrack: { b: 2 }, other: 3 },
    figureSections: { other: "faults" },
  };
  const current: Recorded = {
    failover: [],
    series: [series("pfsync-sync", "bulk", "pfsyncd")],
    figures: { "pfsync-sync": { a: 9 } },
    figureSections: { "pfsync-sync": "pfsync-sync" },
  };
  const cases: { rerun: string[]; failover: number; series: string[]; figures: string[] }[] = [
    {
      rerun: ["pfsync-sync"],
      failover: 2,
      series: ["live kernel", "bulk pfsyncd"],
      figures: ["conntrack", "other", "pfsync-sync"],
    },
    {
      rerun: ["carp-failover", "conntrack"],
      failover: 0,
      series: ["bulk pfsyncd", "bulk conntrackd", "bulk pfsyncd"],
      figures: ["other", "pfsync-sync"],
    },
    {
      rerun: ["faults"],
      failover: 2,
      series: ["bulk pfsyncd", "live kernel", "bulk conntrackd", "bulk pfsyncd"],
      figures: ["conntrack", "pfsync-sync"],
    },
  ];
  for (const c of cases) {
    const out = mergeRecorded(earlier, current, new Set(c.rerun));
    assertEquals(out.failover.length, c.failover, c.rerun.join());
    assertEquals(out.series.map((s) => `${s.kind} ${s.system}`), c.series, c.rerun.join());
    assertEquals(Object.keys(out.figures).sort(), c.figures, c.rerun.join());
    assertEquals(out.figures["pfsync-sync"], { a: 9 });
  }
});
