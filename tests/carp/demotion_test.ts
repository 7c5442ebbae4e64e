import { assertEquals } from "../helpers/assert.ts";
import {
  adjustDemotion,
  type Demotion,
  type DemotionReason,
  demotionTotal,
  describeDemotion,
  healDemotion,
  NO_DEMOTION,
} from "../../lib/carp/mod.ts";

type Op =
  | ["adjust", DemotionReason, string, number]
  | ["heal", DemotionReason, string | undefined];

interface Case {
  name: string;
  ops: Op[];
  total: number;
  described: string;
}

const CASES: Case[] = [
  { name: "nothing", ops: [], total: 0, described: "none" },
  {
    name: "5.4: two vhids lose their link, one per vhid",
    ops: [["adjust", "link", "1@eth1", 1], ["adjust", "link", "2@eth1", 1]],
    total: 2,
    described: "link 1@eth1 +1, link 2@eth1 +1",
  },
  {
    name: "link comes back for one vhid",
    ops: [["adjust", "link", "1@eth1", 1], ["adjust", "link", "2@eth1", 1], [
      "adjust",
      "link",
      "1@eth1",
      -1,
    ]],
    total: 1,
    described: "link 2@eth1 +1",
  },
  {
    name: "10+: send errors add the factor and take it back",
    ops: [["adjust", "senderr", "1@eth0", 240], ["adjust", "senderr", "1@eth0", -240]],
    total: 0,
    described: "none",
  },
  {
    name: "operator writes add up (10+ sysctl semantics)",
    ops: [["adjust", "operator", "ctl", 50], ["adjust", "operator", "ctl", 30]],
    total: 80,
    described: "operator ctl +80",
  },
  {
    name: "negative operator demotion stays visible",
    ops: [["adjust", "operator", "ctl", -20]],
    total: -20,
    described: "operator ctl -20",
  },
  {
    name: "pfsync bulk pending heals when the bulk update ends",
    ops: [["adjust", "pfsync", "bulk", 1], ["adjust", "link", "1@eth1", 1], [
      "heal",
      "pfsync",
      undefined,
    ]],
    total: 1,
    described: "link 1@eth1 +1",
  },
  {
    name: "healing a cause that is absent changes nothing",
    ops: [["adjust", "operator", "ctl", 1], ["heal", "link", "1@eth1"]],
    total: 1,
    described: "operator ctl +1",
  },
  {
    name: "adjusting keeps the entry's place",
    ops: [["adjust", "link", "a", 1], ["adjust", "pfsync", "b", 1], ["adjust", "link", "a", 1]],
    total: 3,
    described: "link a +2, pfsync b +1",
  },
];

Deno.test("demotion table: adjust/heal, total and visible reasons", () => {
  for (const c of CASES) {
    let d: Demotion = NO_DEMOTION;
    for (const op of c.ops) {
      d = op[0] === "adjust"
        ? adjustDemotion(d, op[1], op[2], op[3])
        : healDemotion(d, op[1], op[2]);
    }
    assertEquals(demotionTotal(d), c.total, c.name);
    assertEquals(describeDemotion(d), c.described, c.name);
  }
});

Deno.test("adjustDemotion() never mutates its input", () => {
  const before = adjustDemotion(NO_DEMOTION, "link", "1@eth1", 1);
  const after = adjustDemotion(before, "link", "1@eth1", 1);
  assertEquals(demotionTotal(before), 1);
  assertEquals(demotionTotal(after), 2);
  assertEquals(NO_DEMOTION.entries.length, 0);
});
