import { assert, assertEquals } from "../helpers/assert.ts";
import {
  CarpAuthenticator,
  CarpHost,
  decodeCarpHeader,
  DEFAULT_SYSCTLS,
  describeDemotion,
  VirtualHost,
} from "../../lib/carp/mod.ts";
import { parseAddress } from "../../lib/net/mod.ts";
import { cidr, FakeClock, recordingPorts, vhostConfig } from "./fake_world.ts";

function counterSource(): () => bigint {
  let n = 0x1000n;
  return () => n++;
}

Deno.test("VirtualHost drives BACKUP -> MASTER on its own timer and performs the takeover", async () => {
  const clock = new FakeClock();
  const { ports, record } = recordingPorts(clock, undefined, { random: counterSource() });
  const config = vhostConfig({ advskew: 100 });
  const v = new VirtualHost(config, DEFAULT_SYSCTLS, ports);
  v.start();
  assertEquals(v.state, "BACKUP");
  clock.advance(3390);
  assertEquals(v.state, "BACKUP");
  clock.advance(1);
  assertEquals(v.state, "MASTER");
  assertEquals(record.logs, [
    "carp: 1@eth1: INIT -> BACKUP (started)",
    "carp: 1@eth1: BACKUP -> MASTER (master timed out)",
  ]);
  await v.settled();
  assertEquals(record.actions, [
    "remove 192.0.2.100/24",
    "add 192.0.2.100/24",
    "garp 192.0.2.100/24",
  ]);
  assertEquals(
    record.hooks.map((h) => `${h.from}->${h.to} ${h.reason}`),
    ["INIT->BACKUP started", "BACKUP->MASTER master timed out"],
  );
  // Advertisement on the wire: valid header, our vhid/advbase/advskew, HMAC over the VIP.
  const first = decodeCarpHeader(record.sent[0].bytes);
  assertEquals([first.vhid, first.advbase, first.advskew], [1, 1, 100]);
  const auth = new CarpAuthenticator(
    "s3cret",
    1,
    [parseAddress("192.0.2.100")!.address],
    "configured",
  );
  assert(auth.verify(first.counter, first.hmac), "HMAC verifies");
  // Period advbase + skew; the second advertisement after takeover repeats the GARP.
  clock.advance(1390.625 * 2);
  assertEquals(record.sent.map((s) => s.at), [3390.625, 4781.25, 6171.875]);
  await v.settled();
  assertEquals(record.actions.at(-1), "garp 192.0.2.100/24");
  assertEquals(v.stats.opackets, 3);
});

Deno.test("VirtualHost counter: random until a peer's counter is adopted, then peer + 1", () => {
  const clock = new FakeClock();
  const randoms = [0xaaaa_0000_0000_0001n, 0xbbbb_0000_0000_0002n];
  const { ports, record } = recordingPorts(clock, undefined, { random: () => randoms.shift()! });
  const v = new VirtualHost(vhostConfig(), DEFAULT_SYSCTLS, ports);
  v.start();
  v.forceState("MASTER");
  clock.advance(1000);
  const peerCounter = 0xffff_ffff_ffff_ffffn;
  const peer = decodeCarpHeader(record.sent[0].bytes);
  v.receive({ ...peer, advskew: 200, counter: peerCounter }, "192.0.2.2", 4);
  clock.advance(1000);
  assertEquals(
    record.sent.map((s) => decodeCarpHeader(s.bytes).counter),
    [0xaaaa_0000_0000_0001n, 0xbbbb_0000_0000_0002n, 0n], // wraps past 2^64-1
  );
});

Deno.test("VirtualHost sends one packet per family, each with its own counter, NA for IPv6", async () => {
  const clock = new FakeClock();
  const { ports, record } = recordingPorts(clock, undefined, { random: counterSource() });
  const config = vhostConfig({ addresses: [cidr("192.0.2.100/24"), cidr("2001:db8::100/64")] });
  const v = new VirtualHost(config, DEFAULT_SYSCTLS, ports);
  v.start();
  clock.advance(3000);
  assertEquals(record.sent.map((s) => s.family), [4, 6]);
  const [a, b] = record.sent.map((s) => decodeCarpHeader(s.bytes).counter);
  assert(a !== b, "distinct counters");
  await v.settled();
  assertEquals(record.actions.slice(-2), ["garp 192.0.2.100/24", "na 2001:db8::100/64"]);
  assertEquals([v.stats.opackets, v.stats.opackets6], [1, 1]);
});

Deno.test("VirtualHost three failed sends demote the whole host; three good ones heal it", () => {
  const clock = new FakeClock();
  let failing = true;
  const host = new CarpHost(DEFAULT_SYSCTLS, { ownAddresses: () => [], log: () => {} });
  const a = recordingPorts(clock, undefined, { failSends: () => failing });
  const b = recordingPorts(clock);
  const v1 = host.addVhost(vhostConfig(), a.ports);
  const v2 = host.addVhost(vhostConfig({ vhid: 2, advskew: 10 }), b.ports);
  host.start();
  v1.forceState("MASTER");
  v2.forceState("MASTER");
  // Takeover send + 2 periodic sends fail; the third demotes the host, which makes
  // every MASTER re-advertise at once, v1 included: a fourth failure.
  clock.advance(2000);
  assertEquals(host.stats.oerrors, 4);
  assertEquals(describeDemotion(host.demotion), "senderr 1@eth1 +1");
  // v2 advertised 240 at once when the host became demoted (§4.6).
  const lastOfV2 = decodeCarpHeader(b.record.sent.at(-1)!.bytes);
  assertEquals([lastOfV2.advskew, b.record.sent.at(-1)!.at], [240, 2000]);
  assert(a.record.logs.some((l) => l.includes("send IPv4 advertisement: sendto: ENOBUFS")));
  failing = false;
  clock.advance(3 * 1937.5); // three good sends at the demoted period
  assertEquals(describeDemotion(host.demotion), "none");
  assertEquals(v2.effectiveAdvskew, 10);
});

Deno.test("VirtualHost.shutdown() bows out, removes the addresses and stops its timer", async () => {
  const clock = new FakeClock();
  const { ports, record } = recordingPorts(clock);
  const v = new VirtualHost(vhostConfig(), DEFAULT_SYSCTLS, ports);
  v.start();
  clock.advance(3000);
  await v.shutdown();
  const last = decodeCarpHeader(record.sent.at(-1)!.bytes);
  assertEquals([last.advbase, last.advskew], [255, 255]);
  assertEquals(record.actions.at(-1), "remove 192.0.2.100/24");
  assertEquals(record.logs.at(-1), "carp: 1@eth1: MASTER -> INIT (shutdown)");
  const count = record.sent.length;
  clock.advance(10_000);
  assertEquals(record.sent.length, count);
});

Deno.test("VirtualHost logs a failing address port and keeps electing", async () => {
  const clock = new FakeClock();
  const { ports, record } = recordingPorts(clock);
  const v = new VirtualHost(vhostConfig(), DEFAULT_SYSCTLS, {
    ...ports,
    addAddresses: () => Promise.reject(new Error("RTM_NEWADDR eth1: EPERM")),
  });
  v.start();
  clock.advance(3000);
  await v.settled();
  assertEquals(v.state, "MASTER");
  assert(record.logs.includes("carp: 1@eth1: add addresses failed: RTM_NEWADDR eth1: EPERM"));
  assertEquals(record.actions.at(-1), "garp 192.0.2.100/24");
});
