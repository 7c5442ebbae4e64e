import { assert, assertEquals } from "../helpers/assert.ts";
import { fromHex, internetChecksum } from "../../lib/bytes/mod.ts";
import {
  AdvertCounter,
  carpClockFrom,
  CarpHost,
  carpVirtualMac,
  DEFAULT_SYSCTLS,
  describeDemotion,
  fromIPv4Datagram,
  systemClock,
  ucarpAdvertisementMac,
} from "../../lib/carp/mod.ts";
import { formatMac } from "../../lib/net/mod.ts";
import { cidr, FakeClock, recordingPorts, vhostConfig } from "./fake_world.ts";

// Spec §2.5 vector 1 as captured: IPv4 header, then the CARP header.
const UCARP_DATAGRAM = fromHex(`
  45 10 0038 ed4f 4000 ff 70 a37f 0a630001 e0000012
  21 07 00 07 00 01 9125 661ed545 007d1762 7651c15f02b840f279b06e06f4cbb0a8fac9f736
`);

function ucarpPeerHost(clock: FakeClock, sysctls = DEFAULT_SYSCTLS) {
  const logs: string[] = [];
  const host = new CarpHost(sysctls, { ownAddresses: () => [], log: (l) => logs.push(l) });
  const { ports, record } = recordingPorts(clock);
  const vhost = host.addVhost(
    vhostConfig({ vhid: 7, pass: "secret", addresses: [cidr("10.99.0.100/24")] }),
    ports,
  );
  return { host, vhost, record, logs };
}

Deno.test("CarpHost.receiveIPv4() accepts the captured ucarp datagram end to end", () => {
  const clock = new FakeClock();
  const { host, vhost } = ucarpPeerHost(clock);
  host.start();
  clock.advance(2000);
  const outcome = host.receiveIPv4(UCARP_DATAGRAM, "eth1");
  assertEquals(outcome.kind, "accepted");
  // The BACKUP re-armed its master-down timer from the packet's arrival.
  assertEquals(vhost.machine.masterDownAt[4], 5000);
  assertEquals([host.stats.ipackets, host.stats.badauth], [1, 0]);
});

Deno.test("ucarp's IP checksum over header + CARP equals the plain header checksum (§1.4)", () => {
  const zeroed = UCARP_DATAGRAM.slice();
  zeroed[10] = zeroed[11] = 0;
  assertEquals(internetChecksum(zeroed.subarray(0, 20)), 0xa37f);
  assertEquals(internetChecksum(zeroed), 0xa37f);
});

Deno.test("fromIPv4Datagram() reads TTL and source and counts broken headers as hdrops", () => {
  const p = fromIPv4Datagram(UCARP_DATAGRAM, "eth1");
  assertEquals([p.ttl, Array.from(p.source).join("."), p.payload.length], [255, "10.99.0.1", 36]);
  const clock = new FakeClock();
  const { host } = ucarpPeerHost(clock);
  const cases: Array<[string, Uint8Array, string]> = [
    ["19 bytes", UCARP_DATAGRAM.subarray(0, 19), "hdrops"],
    ["IHL 15 past the end", Uint8Array.of(0x4f, ...UCARP_DATAGRAM.subarray(1, 40)), "hdrops"],
    ["IPv6 version nibble", Uint8Array.of(0x65, ...UCARP_DATAGRAM.subarray(1)), "hdrops"],
    [
      "TTL 254",
      Uint8Array.of(...UCARP_DATAGRAM.subarray(0, 8), 254, ...UCARP_DATAGRAM.subarray(9)),
      "badttl",
    ],
  ];
  for (const [name, bytes, counter] of cases) {
    const outcome = host.receiveIPv4(bytes, "eth1");
    assertEquals(outcome.kind === "dropped" ? outcome.counter : outcome.kind, counter, name);
  }
  assertEquals([host.stats.ipackets, host.stats.hdrops, host.stats.badttl], [4, 3, 1]);
});

Deno.test("CarpHost logs dropped packets only when net.inet.carp.log > 1", () => {
  for (const [log, lines] of [[0, 0], [1, 0], [2, 1]] as const) {
    const clock = new FakeClock();
    const { host, logs } = ucarpPeerHost(clock, { ...DEFAULT_SYSCTLS, log });
    host.start();
    host.receiveIPv4(UCARP_DATAGRAM, "eth9");
    assertEquals(logs.length, lines, `log=${log}`);
  }
});

Deno.test("VirtualHost transition lines follow net.inet.carp.log", () => {
  for (const [log, lines] of [[0, 0], [1, 2]] as const) {
    const clock = new FakeClock();
    const { host, record } = ucarpPeerHost(clock, { ...DEFAULT_SYSCTLS, log });
    host.start();
    clock.advance(3000);
    assertEquals(record.logs.length, lines, `log=${log}`);
  }
});

Deno.test("CarpHost bulk-update demotion (5.4: +1) holds a node back until the update ends", () => {
  const clock = new FakeClock();
  const { host, vhost } = ucarpPeerHost(clock);
  host.setBulkUpdatePending(true, "192.0.2.9");
  host.setBulkUpdatePending(true, "192.0.2.9");
  assertEquals(describeDemotion(host.demotion), "pfsync 192.0.2.9 +1");
  assertEquals(vhost.effectiveAdvskew, 240);
  host.setBulkUpdatePending(false, "192.0.2.9");
  assertEquals(vhost.effectiveAdvskew, 0);
  const tenPlus = new CarpHost({ ...DEFAULT_SYSCTLS, demotion: 10 }, {
    ownAddresses: () => [],
    log: () => {},
  });
  tenPlus.setBulkUpdatePending(true);
  assertEquals(describeDemotion(tenPlus.demotion), "operator sysctl +10, pfsync bulk +240");
});

Deno.test("CarpHost.removeVhost() stops the vhid, removes its VIPs and heals its demotion", async () => {
  const clock = new FakeClock();
  const { host, vhost, record } = ucarpPeerHost(clock);
  host.start();
  clock.advance(3000);
  host.linkChanged("eth1", false);
  host.linkChanged("eth1", true);
  clock.advance(3000);
  assertEquals(vhost.state, "MASTER");
  host.linkChanged("eth1", false);
  assertEquals(describeDemotion(host.demotion), "link 7@eth1 +1");
  await host.removeVhost(7, "eth1");
  assertEquals([host.vhosts.length, describeDemotion(host.demotion)], [0, "none"]);
  assertEquals(record.actions.at(-1), "remove 10.99.0.100/24");
});

Deno.test("VirtualHost.reconfigure() as MASTER swaps only the VIPs that changed", async () => {
  const clock = new FakeClock();
  const { ports, record } = recordingPorts(clock);
  const host = new CarpHost(DEFAULT_SYSCTLS, { ownAddresses: () => [], log: () => {} });
  const config = vhostConfig({ addresses: [cidr("192.0.2.100/24"), cidr("192.0.2.101/24")] });
  const v = host.addVhost(config, ports);
  host.start();
  clock.advance(3000);
  await v.settled();
  record.actions.length = 0;
  v.reconfigure(
    { ...config, addresses: [cidr("192.0.2.101/24"), cidr("192.0.2.102/24")] },
    host.sysctls,
  );
  await v.settled();
  assertEquals(record.actions, [
    "remove 192.0.2.100/24",
    "add 192.0.2.102/24",
    "garp 192.0.2.102/24",
  ]);
  assertEquals(v.state, "MASTER");
});

Deno.test("AdvertCounter is random until it adopts a peer's value, then increments and wraps", () => {
  const draws = [5n, 9n];
  const c = new AdvertCounter(() => draws.shift()!);
  assertEquals([c.unsynchronised, c.next(), c.next()], [true, 5n, 9n]);
  c.adopt(0xffff_ffff_ffff_fffen);
  assertEquals([c.unsynchronised, c.next(), c.next(), c.next()], [
    false,
    0xffff_ffff_ffff_ffffn,
    0n,
    1n,
  ]);
});

Deno.test("carpVirtualMac() is 00:00:5e:00:01:VHID; ucarp's advert source has a 00 fifth byte", () => {
  assertEquals(formatMac(carpVirtualMac(1)), "00:00:5e:00:01:01");
  assertEquals(formatMac(carpVirtualMac(255)), "00:00:5e:00:01:ff");
  assertEquals(formatMac(ucarpAdvertisementMac(7)), "00:00:5e:00:00:07");
  for (const bad of [0, 256, 1.5]) {
    let threw = false;
    try {
      carpVirtualMac(bad);
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, String(bad));
  }
});

Deno.test("systemClock fires a driver's timer after its fractional deadline, never before", async () => {
  const start = systemClock.now();
  const firedAt = await new Promise<number>((resolve) => {
    systemClock.schedule(5.4, () => resolve(systemClock.now()));
  });
  assert(firedAt - start >= 5.4, `fired after ${firedAt - start} ms`);
  let fired = false;
  const cancel = systemClock.schedule(1, () => fired = true);
  cancel();
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(fired, false);
});

Deno.test("carpClockFrom() drives a VirtualHost from a deadline-based clock", () => {
  const fake = new FakeClock();
  const clock = carpClockFrom({
    now: () => fake.now,
    setTimer: (at, fn) => ({ cancel: fake.schedule(at - fake.now, fn) }),
  });
  const { ports } = recordingPorts(fake);
  const host = new CarpHost(DEFAULT_SYSCTLS, { ownAddresses: () => [], log: () => {} });
  const v = host.addVhost(vhostConfig(), { ...ports, ...clock });
  host.start();
  fake.advance(2999);
  assertEquals(v.state, "BACKUP");
  fake.advance(1);
  assertEquals(v.state, "MASTER");
});

Deno.test("CarpHost.setSysctls() re-levels the sysctl demotion and re-runs T1", () => {
  const fake = new FakeClock();
  const host = new CarpHost({ ...DEFAULT_SYSCTLS, demotion: 20 }, {
    ownAddresses: () => [],
    log: () => {},
  });
  const { ports } = recordingPorts(fake);
  const v = host.addVhost(vhostConfig({ advskew: 10 }), ports);
  host.start();
  assertEquals(v.effectiveAdvskew, 30);
  host.setSysctls({ ...DEFAULT_SYSCTLS, demotion: 50 });
  assertEquals([describeDemotion(host.demotion), v.effectiveAdvskew], ["operator sysctl +50", 60]);
  host.setSysctls({ ...DEFAULT_SYSCTLS });
  // Back to 5.4 arithmetic with no demotion at all.
  assertEquals([describeDemotion(host.demotion), v.effectiveAdvskew], ["none", 10]);
});
