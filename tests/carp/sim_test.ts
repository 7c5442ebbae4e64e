/**
 * Two firewalls on an in-memory wire with a fake clock, running the real
 * drivers end to end: election, preemption, bow-out and link loss (issue 4's
 * two-node scenarios, without namespaces).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { masterDownIntervalMs } from "../../lib/carp/mod.ts";
import { Network, Node, vhostConfig } from "./fake_world.ts";

function pair(preempt: boolean, latencyMs = 1) {
  const net = new Network(latencyMs);
  const a = new Node("A", "192.0.2.1", net, { preempt });
  const b = new Node("B", "192.0.2.2", net, { preempt });
  return { net, a, b };
}

Deno.test("simulation: election by advskew when both start together", () => {
  const { net, a, b } = pair(false);
  a.add(vhostConfig({ advskew: 100 }));
  b.add(vhostConfig({ advskew: 0 }));
  a.host.start();
  b.host.start();
  net.clock.advance(2999);
  assertEquals(net.states(1), "A:BACKUP B:BACKUP");
  net.clock.advance(1);
  assertEquals(net.states(1), "A:BACKUP B:MASTER");
  net.clock.advance(60_000);
  assertEquals(net.states(1), "A:BACKUP B:MASTER");
  assertEquals(a.host.stats.badauth + b.host.stats.badauth, 0);
  assert(a.host.stats.ipackets > 50, "A hears B about once a second");
});

for (const preempt of [false, true]) {
  Deno.test(`simulation: a better node joining late ${preempt ? "preempts" : "waits"} (preempt=${preempt})`, () => {
    const { net, a, b } = pair(preempt);
    a.add(vhostConfig({ advskew: 100 }));
    b.add(vhostConfig({ advskew: 0 }));
    a.host.start();
    net.clock.advance(10_000);
    assertEquals(a.vhost(1).state, "MASTER");
    b.host.start();
    net.clock.advance(30_000);
    assertEquals(net.states(1), preempt ? "A:BACKUP B:MASTER" : "A:MASTER B:BACKUP");
    if (preempt) {
      // 5.4 with preempt: B went INIT -> MASTER at once and A stepped down on hearing it.
      assertEquals(b.records.get(1)!.logs[0], "carp: 1@eth1: INIT -> MASTER (started, preempt)");
      assertEquals(
        a.records.get(1)!.logs.at(-1),
        "carp: 1@eth1: MASTER -> BACKUP (preempted by 192.0.2.2)",
      );
    }
  });
}

Deno.test("simulation: a BACKUP with preempt takes over from a worse master", () => {
  const { net, a, b } = pair(true);
  a.add(vhostConfig({ advskew: 100 }));
  b.add(vhostConfig({ advskew: 0 }));
  a.host.start();
  b.host.start();
  net.clock.advance(100);
  b.vhost(1).forceState("BACKUP");
  a.vhost(1).forceState("MASTER");
  net.clock.advance(5);
  assertEquals(net.states(1), "A:BACKUP B:MASTER");
  assertEquals(
    b.records.get(1)!.logs.at(-1),
    "carp: 1@eth1: BACKUP -> MASTER (preempting slower master 192.0.2.1)",
  );
  assertEquals(b.host.stats.preempt, 1);
});

Deno.test("simulation: bow-out on shutdown hands over at once, not after master-down", async () => {
  const { net, a, b } = pair(false);
  a.add(vhostConfig({ advbase: 3, advskew: 0 }));
  b.add(vhostConfig({ advbase: 3, advskew: 50 }));
  a.host.start();
  b.host.start();
  net.clock.advance(20_000);
  assertEquals(net.states(1), "A:MASTER B:BACKUP");
  const stoppedAt = net.clock.now;
  await a.host.shutdown();
  net.clock.advance(1); // one wire latency
  assertEquals(net.states(1), "A:INIT B:MASTER");
  const took = b.records.get(1)!.sent.at(-1)!.at - stoppedAt;
  assert(took < masterDownIntervalMs(3, 50) / 100, `took ${took} ms`);
  assertEquals(
    b.records.get(1)!.logs.at(-1),
    "carp: 1@eth1: BACKUP -> MASTER (bow-out from 192.0.2.1)",
  );
  assertEquals(a.records.get(1)!.actions.at(-1), "remove 192.0.2.100/24");
});

Deno.test("simulation: without bow-out the backup waits the master-down interval", async () => {
  const net = new Network(1);
  const a = new Node("A", "192.0.2.1", net);
  const b = new Node("B", "192.0.2.2", net);
  a.add(vhostConfig({ advbase: 3 }), { bowOut: false });
  b.add(vhostConfig({ advbase: 3, advskew: 50 }));
  a.host.start();
  b.host.start();
  net.clock.advance(20_000);
  await a.host.shutdown();
  net.clock.advance(1000);
  assertEquals(net.states(1), "A:INIT B:BACKUP");
  net.clock.advance(masterDownIntervalMs(3, 50));
  assertEquals(net.states(1), "A:INIT B:MASTER");
});

Deno.test("simulation: one parent link down moves every vhid of that host to the peer", () => {
  const { net, a, b } = pair(true);
  // A is master of vhid 1 on eth1 and vhid 2 on eth2; B is the preempting backup of both.
  a.add(vhostConfig({ vhid: 1, parent: "eth1", interface: "eth1", advskew: 0 }));
  a.add(vhostConfig({ vhid: 2, parent: "eth2", interface: "eth2", advskew: 0 }));
  b.add(vhostConfig({ vhid: 1, parent: "eth1", interface: "eth1", advskew: 100 }));
  b.add(vhostConfig({ vhid: 2, parent: "eth2", interface: "eth2", advskew: 100 }));
  a.host.start();
  net.clock.advance(100);
  b.host.start();
  net.clock.advance(10_000);
  assertEquals([net.states(1), net.states(2)], ["A:MASTER B:BACKUP", "A:MASTER B:BACKUP"]);
  const downAt = net.clock.now;
  a.setLink("eth1", false);
  // vhid 2 (eth2 still up) now advertises 240 at once; B preempts it within one latency.
  net.clock.advance(2);
  assertEquals(net.states(2), "A:BACKUP B:MASTER");
  assertEquals(a.vhost(1).state, "INIT");
  // vhid 1 is silent: B takes it after its master-down interval.
  net.clock.advance(masterDownIntervalMs(1, 100));
  assertEquals(net.states(1), "A:INIT B:MASTER");
  assert(net.clock.now - downAt < 3500);
  // Link back: A heals its demotion and, preempting, takes both vhids back.
  a.setLink("eth1", true);
  net.clock.advance(10_000);
  assertEquals(a.host.demotion.entries.length, 0);
  assertEquals([net.states(1), net.states(2)], ["A:MASTER B:BACKUP", "A:MASTER B:BACKUP"]);
});

Deno.test("simulation: a wrong passphrase is counted as badauth and both keep their view", () => {
  const net = new Network(1);
  const a = new Node("A", "192.0.2.1", net);
  const b = new Node("B", "192.0.2.2", net);
  a.add(vhostConfig({ pass: "right" }));
  b.add(vhostConfig({ pass: "wrong", advskew: 50 }));
  a.host.start();
  b.host.start();
  net.clock.advance(10_000);
  assertEquals(net.states(1), "A:MASTER B:MASTER");
  assertEquals(b.host.stats.badauth, b.host.stats.ipackets);
  assertEquals(a.host.stats.badauth, a.host.stats.ipackets);
  assert(b.host.stats.badauth >= 7, "every packet counted");
});
