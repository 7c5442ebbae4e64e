import { assertEquals } from "../helpers/assert.ts";
import { type CarpEvent, type CarpMachine, nextDeadline } from "../../lib/carp/mod.ts";
import { ad, machineIn, run, settings } from "./fsm_helpers.ts";

interface Row {
  name: string;
  from: () => CarpMachine;
  events: Array<readonly [number, CarpEvent]>;
  state: "INIT" | "BACKUP" | "MASTER";
  effects: string[];
  advertiseAt?: number | null;
  masterDownAt?: Partial<Record<4 | 6, number>>;
}

/** A BACKUP with preempt on (T1 would have made it MASTER directly). */
function withPreempt(m: CarpMachine): CarpMachine {
  return { ...m, settings: { ...m.settings, preempt: true } };
}

const tick = { type: "tick" } as const;
const dual = settings({ families: [4, 6] });
const s54Preempt = settings({ preempt: true });
const s10 = settings({ mode: "10+", senderrDemotion: 240, ifdownDemotion: 240 });

// Every row is named after the spec §4.2 transition it exercises. Clock in ms.
const ROWS: Row[] = [
  {
    name: "T1 INIT with preempt and no suppression goes straight to MASTER",
    from: () => machineIn("INIT", s54Preempt),
    events: [[100, { type: "start" }]],
    state: "MASTER",
    effects: ["send 1/0", "INIT->MASTER (started, preempt)", "add", "garp"],
    advertiseAt: 1100,
    masterDownAt: {},
  },
  {
    name: "T1 INIT with preempt but a demoted host goes to BACKUP",
    from: () => machineIn("INIT", s54Preempt, 1),
    events: [[0, { type: "start" }]],
    state: "BACKUP",
    effects: ["INIT->BACKUP (started)", "remove"],
    masterDownAt: { 4: 3000 },
  },
  {
    name: "T1 INIT without preempt goes to BACKUP and arms master-down (3·advbase + skew)",
    from: () => machineIn("INIT", settings({ advskew: 100 })),
    events: [[10, { type: "start" }]],
    state: "BACKUP",
    effects: ["INIT->BACKUP (started)", "remove"],
    advertiseAt: null,
    masterDownAt: { 4: 3400.625 },
  },
  {
    name: "T1 FreeBSD 10+ has no INIT->MASTER shortcut even with preempt",
    from: () => machineIn("INIT", settings({ ...s10, preempt: true })),
    events: [[0, { type: "start" }]],
    state: "BACKUP",
    effects: ["INIT->BACKUP (started)", "remove"],
  },
  {
    name: "T1 BACKUP reconfigured re-arms master-down for every family",
    from: () => machineIn("BACKUP", dual),
    events: [[500, { type: "configChanged", settings: { ...dual, advbase: 2 } }]],
    state: "BACKUP",
    effects: [],
    masterDownAt: { 4: 6500, 6: 6500 },
  },
  {
    name: "T1 BACKUP reconfigured without IPv6 VIPs drops the IPv6 timer",
    from: () => machineIn("BACKUP", dual),
    events: [[500, { type: "configChanged", settings: settings() }]],
    state: "BACKUP",
    effects: [],
    masterDownAt: { 4: 3500 },
  },
  {
    name: "T1 MASTER reconfigured re-arms the advertisement timer with the raw advskew",
    from: () => machineIn("MASTER"),
    events: [[500, { type: "configChanged", settings: settings({ advskew: 128 }) }]],
    state: "MASTER",
    effects: [],
    advertiseAt: 2000,
  },
  {
    name: "T1 + T9 configured `state master` forces MASTER right after bring-up",
    from: () => machineIn("INIT", settings({ initialState: "master" })),
    events: [[0, { type: "start" }]],
    state: "MASTER",
    effects: [
      "INIT->BACKUP (started)",
      "remove",
      "send 1/0",
      "BACKUP->MASTER (configured state master)",
      "add",
      "garp",
    ],
  },
  {
    name: "T1 + T9 configured `state backup` with preempt stays out of the INIT->MASTER shortcut",
    from: () => machineIn("INIT", settings({ preempt: true, initialState: "backup" })),
    events: [[0, { type: "start" }]],
    state: "BACKUP",
    effects: ["INIT->BACKUP (started)", "remove"],
  },
  {
    name: "T1 + T9 configured `state backup` when T1 already gives BACKUP adds nothing",
    from: () => machineIn("INIT", settings({ initialState: "backup" })),
    events: [[0, { type: "start" }]],
    state: "BACKUP",
    effects: ["INIT->BACKUP (started)", "remove"],
  },
  {
    name: "T2 master-down timer does not fire before its deadline",
    from: () => machineIn("BACKUP"),
    events: [[2999, tick]],
    state: "BACKUP",
    effects: [],
    masterDownAt: { 4: 3000 },
  },
  {
    name: "T2 master-down timer fires: BACKUP -> MASTER, advertise, add, GARP",
    from: () => machineIn("BACKUP"),
    events: [[3000, tick]],
    state: "MASTER",
    effects: ["send 1/0", "BACKUP->MASTER (master timed out)", "add", "garp"],
    advertiseAt: 4000,
    masterDownAt: {},
  },
  {
    name: "T2 per family: IPv4 adverts keep only the IPv4 timer alive, IPv6 expires",
    from: () => machineIn("BACKUP", dual),
    events: [[2000, ad(1, 0)], [3000, tick]],
    state: "MASTER",
    effects: ["send 1/0", "BACKUP->MASTER (master timed out)", "add", "garp"],
  },
  {
    name: "T2 in INIT: no timer, nothing happens",
    from: () => machineIn("INIT"),
    events: [[999_999, tick]],
    state: "INIT",
    effects: [],
  },
  {
    name: "T3 advertisement timer: send and re-arm at advbase + skew",
    from: () => machineIn("MASTER", settings({ advskew: 64 })),
    events: [[1250, tick]],
    state: "MASTER",
    effects: ["send 1/64"],
    advertiseAt: 2500,
  },
  {
    name: "T3 the second advertisement after takeover repeats the gratuitous ARP once",
    from: () => machineIn("MASTER"),
    events: [[1000, tick], [2000, tick]],
    state: "MASTER",
    effects: ["send 1/0", "garp"],
  },
  {
    name: "T3 while the host is demoted (5.4) advertises advskew 240",
    from: () => machineIn("MASTER", settings({ advskew: 10 }), 1),
    events: [[2000, tick]],
    state: "MASTER",
    effects: ["send 1/240"],
    advertiseAt: 3937.5,
  },
  {
    name: "T4 INIT ignores advertisements",
    from: () => machineIn("INIT"),
    events: [[0, ad(1, 0)]],
    state: "INIT",
    effects: [],
  },
  {
    name: "T4 MASTER hears a better master: BACKUP, master-down armed, addresses removed",
    from: () => machineIn("MASTER", settings({ advskew: 100 })),
    events: [[400, ad(1, 50)]],
    state: "BACKUP",
    effects: ["MASTER->BACKUP (preempted by 192.0.2.2)", "remove"],
    advertiseAt: null,
    masterDownAt: { 4: 3790.625 },
  },
  {
    name: "T4 MASTER hears an equal master: steps down too (no tie-breaker)",
    from: () => machineIn("MASTER"),
    events: [[0, ad(1, 0)]],
    state: "BACKUP",
    effects: ["MASTER->BACKUP (equal advertisement from 192.0.2.2)", "remove"],
  },
  {
    name: "T4 MASTER hears a worse master: stays MASTER",
    from: () => machineIn("MASTER"),
    events: [[0, ad(1, 1)]],
    state: "MASTER",
    effects: ["log ignoring worse master 192.0.2.2"],
  },
  {
    name: "T4 MASTER demoted (5.4) loses to a peer at advskew 100",
    from: () => machineIn("MASTER", settings(), 1),
    events: [[0, ad(1, 100)]],
    state: "BACKUP",
    effects: ["MASTER->BACKUP (preempted by 192.0.2.2)", "remove"],
  },
  {
    name: "T4 BACKUP rule 1: preempt on and a worse master: take over at once",
    from: () => withPreempt(machineIn("BACKUP", settings({ advskew: 10 }))),
    events: [[700, ad(1, 100)]],
    state: "MASTER",
    effects: ["send 1/10", "BACKUP->MASTER (preempting slower master 192.0.2.2)", "add", "garp"],
  },
  {
    name: "T4 BACKUP rule 1 needs preempt: without it the worse master only re-arms the timer",
    from: () => machineIn("BACKUP", settings({ advskew: 10 })),
    events: [[700, ad(1, 100)]],
    state: "BACKUP",
    effects: [],
    masterDownAt: { 4: 3739.062 },
  },
  {
    name: "T4 BACKUP rule 2: bow-out (255/255) means take over at once",
    from: () => machineIn("BACKUP", settings({ advbase: 3 })),
    events: [[1000, ad(255, 255)]],
    state: "MASTER",
    effects: ["send 3/0", "BACKUP->MASTER (bow-out from 192.0.2.2)", "add", "garp"],
  },
  {
    name: "T4 BACKUP rule 2: a master advertising slower than 3·advbase would time out anyway",
    from: () => machineIn("BACKUP"),
    events: [[1000, ad(4, 0)]],
    state: "MASTER",
    effects: [
      "send 1/0",
      "BACKUP->MASTER (infrequent advertisement from 192.0.2.2)",
      "add",
      "garp",
    ],
  },
  {
    name: "T4 BACKUP rule 3: re-arm only the family the packet came in on",
    from: () => machineIn("BACKUP", dual),
    events: [[1000, ad(1, 0, "2001:db8::2", 6)]],
    state: "BACKUP",
    effects: [],
    masterDownAt: { 4: 3000, 6: 4000 },
  },
  {
    name: "T5 MASTER shut down sends the bow-out, removes addresses, goes INIT, no re-arm",
    from: () => machineIn("MASTER"),
    events: [[500, { type: "shutdown" }]],
    state: "INIT",
    effects: ["send 255/255 bow-out", "remove", "MASTER->INIT (shutdown)"],
    advertiseAt: null,
    masterDownAt: {},
  },
  {
    name: "T5 BACKUP shut down goes INIT silently",
    from: () => machineIn("BACKUP"),
    events: [[500, { type: "shutdown" }]],
    state: "INIT",
    effects: ["remove", "BACKUP->INIT (shutdown)"],
  },
  {
    name: "T5 with bow-out disabled (FreeBSD 10+/ucarp behaviour) goes silent",
    from: () => machineIn("MASTER", settings({ bowOut: false })),
    events: [[500, { type: "shutdown" }]],
    state: "INIT",
    effects: ["remove", "MASTER->INIT (shutdown)"],
  },
  {
    name: "T6 administrative up after a shutdown applies T1 again",
    from: () => machineIn("MASTER"),
    events: [[0, { type: "shutdown" }], [10, { type: "start" }]],
    state: "BACKUP",
    effects: ["INIT->BACKUP (started)", "remove"],
    masterDownAt: { 4: 3010 },
  },
  {
    name: "T7 parent link down: MASTER -> INIT, addresses removed, host demoted once (5.4: +1)",
    from: () => machineIn("MASTER"),
    events: [[0, { type: "linkDown" }]],
    state: "INIT",
    effects: ["remove", "MASTER->INIT (link eth1 down)", "demote link +1 1@eth1"],
    advertiseAt: null,
  },
  {
    name: "T7 (10+) link down adds ifdown_demotion_factor",
    from: () => machineIn("BACKUP", s10),
    events: [[0, { type: "linkDown" }]],
    state: "INIT",
    effects: ["remove", "BACKUP->INIT (link eth1 down)", "demote link +240 1@eth1"],
  },
  {
    name: "T7 a second link-down report does not demote twice",
    from: () => machineIn("BACKUP"),
    events: [[0, { type: "linkDown" }], [5, { type: "linkDown" }]],
    state: "INIT",
    effects: [],
  },
  {
    name: "T8 link up: T1 runs while still demoted (BACKUP), then the demotion is taken back",
    from: () => machineIn("INIT", s54Preempt),
    events: [
      [0, { type: "start" }],
      [1, { type: "linkDown" }],
      [2, { type: "demotionChanged", total: 1, previous: 0 }],
      [100, { type: "linkUp" }],
    ],
    state: "BACKUP",
    effects: ["INIT->BACKUP (link eth1 up)", "remove", "demote link -1 1@eth1"],
    masterDownAt: { 4: 3100 },
  },
  {
    name: "T9 forcing BACKUP from MASTER",
    from: () => machineIn("MASTER"),
    events: [[200, { type: "forceState", state: "BACKUP" }]],
    state: "BACKUP",
    effects: ["MASTER->BACKUP (forced by operator)", "remove"],
    masterDownAt: { 4: 3200 },
  },
  {
    name: "T9 forcing MASTER from BACKUP applies T2",
    from: () => machineIn("BACKUP"),
    events: [[200, { type: "forceState", state: "MASTER" }]],
    state: "MASTER",
    effects: ["send 1/0", "BACKUP->MASTER (forced by operator)", "add", "garp"],
  },
  {
    name: "T9 forcing a state in INIT is refused",
    from: () => machineIn("INIT"),
    events: [[0, { type: "forceState", state: "MASTER" }]],
    state: "INIT",
    effects: ["log cannot force MASTER in INIT"],
  },
  {
    name: "T10 two send failures do not demote yet",
    from: () => machineIn("MASTER"),
    events: [[0, { type: "sendResult", ok: false }], [1, { type: "sendResult", ok: false }]],
    state: "MASTER",
    effects: [],
  },
  {
    name: "T10 the third consecutive send failure demotes the host",
    from: () => machineIn("MASTER"),
    events: [0, 1, 2].map((t) => [t, { type: "sendResult", ok: false }] as const),
    state: "MASTER",
    effects: ["demote senderr +1 1@eth1"],
  },
  {
    name: "T10 a success between failures resets the count",
    from: () => machineIn("MASTER"),
    events: [false, false, true, false, false].map((ok, t) =>
      [t, { type: "sendResult", ok }] as const
    ),
    state: "MASTER",
    effects: [],
  },
  {
    name: "T10 three successes after the demotion take it back",
    from: () => machineIn("MASTER", s10),
    events: [false, false, false, true, true, true].map((ok, t) =>
      [t, { type: "sendResult", ok }] as const
    ),
    state: "MASTER",
    effects: ["demote senderr -240 1@eth1"],
  },
  {
    name: "T11 removing the last address stops the vhid in INIT",
    from: () => machineIn("MASTER"),
    events: [[0, { type: "configChanged", settings: settings({ families: [] }) }]],
    state: "INIT",
    effects: ["remove", "MASTER->INIT (no addresses)"],
    advertiseAt: null,
  },
  {
    name: "§4.6 demotion rising from 0 (5.4) makes a MASTER advertise 240 at once",
    from: () => machineIn("MASTER", settings({ advskew: 20 })),
    events: [[300, { type: "demotionChanged", total: 1, previous: 0 }]],
    state: "MASTER",
    effects: ["send 1/240"],
    advertiseAt: 2237.5,
  },
  {
    name: "§4.6 further demotion (5.4) sends nothing extra",
    from: () => machineIn("MASTER", settings(), 1),
    events: [[300, { type: "demotionChanged", total: 2, previous: 1 }]],
    state: "MASTER",
    effects: [],
  },
  {
    name: "§4.8 every demotion change (10+) re-advertises with advskew + demotion",
    from: () => machineIn("MASTER", settings({ ...s10, advskew: 20 })),
    events: [[0, { type: "demotionChanged", total: 50, previous: 0 }], [
      10,
      { type: "demotionChanged", total: 0, previous: 50 },
    ]],
    state: "MASTER",
    effects: ["send 1/20"],
  },
];

Deno.test("step() transition table T1–T11 (spec §4.2) with a fake clock", () => {
  for (const row of ROWS) {
    const { machine, last } = run(row.from(), row.events);
    assertEquals(machine.state, row.state, row.name);
    assertEquals(last, row.effects, row.name);
    if (row.advertiseAt !== undefined) assertEquals(machine.advertiseAt, row.advertiseAt, row.name);
    if (row.masterDownAt !== undefined) {
      const rounded = Object.fromEntries(
        Object.entries(machine.masterDownAt).map(([k, v]) => [k, Math.round(v! * 1000) / 1000]),
      );
      assertEquals(rounded, row.masterDownAt, row.name);
    }
  }
});

Deno.test("step() covers every transition of spec §4.2 in the table", () => {
  for (const t of ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11"]) {
    const rows = ROWS.filter((r) => r.name.startsWith(`${t} `));
    assertEquals(rows.length > 0, true, `no row for ${t}`);
  }
});

Deno.test("nextDeadline() is the earliest armed timer", () => {
  const dualBackup = machineIn("BACKUP", settings({ families: [4, 6] }));
  assertEquals(nextDeadline(dualBackup), 3000);
  const { machine } = run(dualBackup, [[1000, ad(1, 0, "2001:db8::2", 6)]]);
  assertEquals(nextDeadline(machine), 3000);
  assertEquals(nextDeadline(machineIn("INIT")), null);
  assertEquals(nextDeadline(machineIn("MASTER")), 1000);
});

Deno.test("step() never mutates the machine it is given", () => {
  const m = machineIn("BACKUP");
  const copy = structuredClone(m);
  run(m, [[3000, { type: "tick" }]]);
  assertEquals(m, copy);
});
