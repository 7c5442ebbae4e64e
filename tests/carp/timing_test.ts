import { assertEquals } from "../helpers/assert.ts";
import {
  advertisementIntervalMs,
  compareTiming,
  demotionMode,
  effectiveAdvskew,
  isBowOut,
  masterDownIntervalMs,
  skewUs,
} from "../../lib/carp/mod.ts";

Deno.test("skewUs() follows floor(s·1e6/256) with the spec's examples", () => {
  const cases: Array<[number, number]> = [[0, 0], [1, 3906], [100, 390_625], [240, 937_500], [
    255,
    996_093,
  ]];
  for (const [skew, us] of cases) assertEquals(skewUs(skew), us, String(skew));
});

Deno.test("advertisementIntervalMs() and masterDownIntervalMs() count the skew once", () => {
  const cases: Array<[number, number, number, number]> = [
    // advbase, advskew, advertisement ms, master-down ms
    [1, 0, 1000, 3000],
    [1, 100, 1390.625, 3390.625],
    [3, 0, 3000, 9000],
    [2, 240, 2937.5, 6937.5],
    [255, 255, 255_996.093, 765_996.093],
  ];
  for (const [advbase, advskew, ad, down] of cases) {
    assertEquals(advertisementIntervalMs(advbase, advskew), ad, `${advbase}/${advskew}`);
    assertEquals(masterDownIntervalMs(advbase, advskew), down, `${advbase}/${advskew}`);
  }
  assertEquals(masterDownIntervalMs(2, 0, 4), 8000); // ucarp -r 4
});

Deno.test("effectiveAdvskew() applies 5.4 suppression and 10+ additive demotion", () => {
  const cases: Array<["5.4" | "10+", number, number, number]> = [
    // mode, advskew, demotion, effective
    ["5.4", 0, 0, 0],
    ["5.4", 100, 0, 100],
    ["5.4", 0, 1, 240],
    ["5.4", 100, 3, 240],
    ["5.4", 250, 1, 250], // already above 240: kept
    ["5.4", 250, 0, 250],
    ["10+", 0, 0, 0],
    ["10+", 100, 0, 100],
    ["10+", 250, 0, 240], // capped even without demotion
    ["10+", 100, 50, 150],
    ["10+", 100, 240, 240],
    ["10+", 100, -150, 0], // negative operator demotion clamps at 0
  ];
  for (const [mode, advskew, demotion, effective] of cases) {
    assertEquals(
      effectiveAdvskew(advskew, demotion, mode),
      effective,
      `${mode} ${advskew}+${demotion}`,
    );
  }
});

Deno.test("compareTiming() is lexicographic on (advbase, skew), smaller better", () => {
  const cases: Array<[[number, number], [number, number], number]> = [
    [[1, 0], [1, 0], 0],
    [[1, 0], [1, 100], -1],
    [[1, 200], [2, 0], -1],
    [[3, 0], [1, 255], 1],
    [[255, 255], [3, 240], 1],
  ];
  for (const [[ab, as], [bb, bs], sign] of cases) {
    const result = compareTiming({ advbase: ab, advskew: as }, { advbase: bb, advskew: bs });
    assertEquals(Math.sign(result), sign, `${ab}/${as} vs ${bb}/${bs}`);
  }
});

Deno.test("demotionMode() is 10+ only when a 10+ sysctl is set; isBowOut() needs 255/255", () => {
  const base = { allow: true, preempt: false, log: 1 };
  assertEquals(demotionMode(base), "5.4");
  assertEquals(demotionMode({ ...base, demotion: 0 }), "10+");
  assertEquals(demotionMode({ ...base, senderrDemotionFactor: 240 }), "10+");
  assertEquals(demotionMode({ ...base, ifdownDemotionFactor: 100 }), "10+");
  assertEquals(isBowOut({ advbase: 255, advskew: 255 }), true);
  assertEquals(isBowOut({ advbase: 255, advskew: 254 }), false);
  assertEquals(isBowOut({ advbase: 1, advskew: 255 }), false);
});
