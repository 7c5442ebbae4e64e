/**
 * Issue 3's "done when" items for the socket layer, on a real kernel:
 * two namespaces joined by two veth pairs (eth0: 192.0.2.0/24, eth1:
 * 198.51.100.0/24). Socket code runs inside the namespaces through the
 * fixture tests/sys/fixtures/sockets.ts, which reports JSON lines.
 */
import { type LabProcess, labSkipReason, labTest, type Ns } from "../lab/lab.ts";
import type { Lab } from "../lab/lab.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";

const FIXTURE = new URL("./fixtures/sockets.ts", import.meta.url);
const PFSYNC_GROUP = "224.0.0.240";

interface Packet {
  source: string;
  destination: string;
  ifindex: number;
  ttl: number;
  tos?: number;
  payload: string;
}

async function twoFirewalls(lab: Lab): Promise<[Ns, Ns]> {
  const a = await lab.namespace("a");
  const b = await lab.namespace("b");
  for (const ns of [a, b]) {
    // link-local IPv6 usable at once, without waiting for DAD
    await ns.sysctl("net.ipv6.conf.default.accept_dad", 0);
    await ns.sysctl("net.ipv6.conf.all.accept_dad", 0);
  }
  await lab.link(a, "eth0", b, "eth0");
  await lab.link(a, "eth1", b, "eth1");
  await a.addr("eth0", "192.0.2.1/24");
  await b.addr("eth0", "192.0.2.2/24");
  await a.addr("eth1", "198.51.100.1/24");
  await b.addr("eth1", "198.51.100.2/24");
  return [a, b];
}

async function receiver(ns: Ns, mode: string, args: string[]): Promise<LabProcess> {
  const process = ns.spawnDeno(FIXTURE, [mode, ...args], { label: `${mode}-${args[1]}` });
  await process.waitForOutput(/"ready":true/, 20_000);
  return process;
}

async function send(ns: Ns, args: string[]): Promise<void> {
  const result = await ns.runDeno(FIXTURE, args);
  assert(result.success, `fixture ${args.join(" ")} failed: ${result.stderr}`);
}

function packetsOf(process: LabProcess): Packet[] {
  return process.jsonLines<Packet & { ready?: boolean }>().filter((line) => !line.ready);
}

labTest(
  "RawIPv4Socket: proto-240 multicast and unicast arrive with source, interface and TTL 255, per interface",
  async (lab) => {
    const [a, b] = await twoFirewalls(lab);
    const common = [
      "--protocol",
      "240",
      "--group",
      PFSYNC_GROUP,
      "--count",
      "2",
      "--timeout",
      "8000",
    ];
    const on0 = await receiver(b, "receive4", ["--device", "eth0", ...common]);
    const on1 = await receiver(b, "receive4", ["--device", "eth1", ...common]);
    await send(a, ["send4", "--device", "eth0", "--to", PFSYNC_GROUP, "--payload", "a0a0a0a0"]);
    await send(a, ["send4", "--device", "eth1", "--to", PFSYNC_GROUP, "--payload", "b1b1b1b1"]);
    await send(a, ["send4", "--device", "eth0", "--to", "192.0.2.2", "--payload", "c0c0"]);
    await send(a, ["send4", "--device", "eth1", "--to", "198.51.100.2", "--payload", "d1d1"]);
    await on0.waitExit(10_000);
    await on1.waitExit(10_000);
    const eth0 = await b.ifindex("eth0");
    const eth1 = await b.ifindex("eth1");
    assertEquals(packetsOf(on0), [
      {
        source: "192.0.2.1",
        destination: PFSYNC_GROUP,
        ifindex: eth0,
        ttl: 255,
        tos: 0x10,
        payload: "a0a0a0a0",
      },
      {
        source: "192.0.2.1",
        destination: "192.0.2.2",
        ifindex: eth0,
        ttl: 255,
        tos: 0x10,
        payload: "c0c0",
      },
    ]);
    assertEquals(packetsOf(on1), [
      {
        source: "198.51.100.1",
        destination: PFSYNC_GROUP,
        ifindex: eth1,
        ttl: 255,
        tos: 0x10,
        payload: "b1b1b1b1",
      },
      {
        source: "198.51.100.1",
        destination: "198.51.100.2",
        ifindex: eth1,
        ttl: 255,
        tos: 0x10,
        payload: "d1d1",
      },
    ]);
  },
);

labTest(
  "RawIPv4Socket.leaveGroup(): after leaving, multicast to the group no longer arrives",
  async (lab) => {
    const [a, b] = await twoFirewalls(lab);
    const common = ["--protocol", "240", "--group", PFSYNC_GROUP, "--count", "1"];
    const left = await receiver(b, "receive4", [
      "--device",
      "eth1",
      ...common,
      "--leave",
      "1",
      "--timeout",
      "1500",
    ]);
    const joined = await receiver(b, "receive4", [
      "--device",
      "eth0",
      ...common,
      "--timeout",
      "8000",
    ]);
    await send(a, ["send4", "--device", "eth1", "--to", PFSYNC_GROUP, "--payload", "1e1e"]);
    await send(a, ["send4", "--device", "eth0", "--to", PFSYNC_GROUP, "--payload", "0e0e"]);
    await joined.waitExit(10_000);
    await left.waitExit(10_000);
    assertEquals(
      packetsOf(joined).map((p) => p.payload),
      ["0e0e"],
      "the joined socket still receives",
    );
    assertEquals(packetsOf(left), [], "nothing after IP_DROP_MEMBERSHIP");
  },
);

labTest(
  "RawIPv6Socket: CARP to ff02::12 arrives with link-local source, interface and hop limit 255",
  async (lab) => {
    const [a, b] = await twoFirewalls(lab);
    const common = [
      "--protocol",
      "112",
      "--group",
      "ff02::12",
      "--count",
      "1",
      "--timeout",
      "8000",
    ];
    const on0 = await receiver(b, "receive6", ["--device", "eth0", ...common]);
    const on1 = await receiver(b, "receive6", ["--device", "eth1", ...[
      "--protocol",
      "112",
      "--group",
      "ff02::12",
      "--count",
      "1",
      "--timeout",
      "1500",
    ]]);
    await send(a, [
      "send6",
      "--protocol",
      "112",
      "--device",
      "eth0",
      "--to",
      "ff02::12",
      "--payload",
      "2107000700010000",
    ]);
    await on0.waitExit(10_000);
    await on1.waitExit(10_000);
    const source = (await a.addresses("eth0", true)).find((cidr) => cidr.startsWith("fe80"))!;
    assertEquals(packetsOf(on0), [{
      source: source.split("/")[0],
      destination: "ff02::12",
      ifindex: await b.ifindex("eth0"),
      ttl: 255,
      payload: "2107000700010000",
    }]);
    assertEquals(packetsOf(on1), [], "the socket bound to eth1 saw nothing");
  },
);

labTest(
  "PacketSocket/NeighborAdvertiser: gratuitous ARP and unsolicited NA seen by tcpdump in the peer",
  async (lab) => {
    const [a, b] = await twoFirewalls(lab);
    const capture = await b.tcpdump("eth0", "arp or icmp6");
    await send(a, [
      "announce",
      "--device",
      "eth0",
      "--address",
      "192.0.2.100",
      "--mac",
      "00:00:5e:00:01:07",
      "--target",
      "2001:db8::100",
    ]);
    await capture.stop(200);
    const arp = await capture.text(["arp"]);
    assertStringIncludes(
      arp,
      "00:00:5e:00:01:07 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42",
    );
    assertStringIncludes(arp, "Request who-has 192.0.2.100 tell 192.0.2.100, length 28");
    const na = await capture.text(["icmp6 and ip6[40] == 136"]);
    assertMatch(na, /> 33:33:00:00:00:01, ethertype IPv6/);
    assertMatch(na, /hlim 255, next-header ICMPv6/);
    assertMatch(
      na,
      /> ff02::1: \[icmp6 sum ok\] ICMP6, neighbor advertisement, length 32, tgt is 2001:db8::100, Flags \[override\]/,
    );
    assertStringIncludes(
      na,
      "destination link-address option (2), length 8 (1): 00:00:5e:00:01:07",
    );
  },
);

labTest(
  "NetlinkSocket: RTM_NEWLINK for a new link arrives through the reactor within 100 ms",
  async (lab) => {
    const ns = await lab.namespace("nl");
    const result = await ns.runDeno(FIXTURE, ["link-events"]);
    assert(result.success, result.stderr);
    const report = JSON.parse(result.stdout.trim()) as {
      ipOk: boolean;
      arrived: boolean;
      delayAfterIpExitMs: number;
    };
    assert(report.ipOk, "ip link add worked");
    assert(report.arrived, "an RTM_NEWLINK arrived");
    assert(
      report.delayAfterIpExitMs < 100,
      `event ${report.delayAfterIpExitMs} ms after ip exited`,
    );
  },
);

labTest(
  "NetlinkSocket.receive() throws SysError ENOBUFS once after an overrun, then reads on",
  async (lab) => {
    const ns = await lab.namespace("nl");
    const result = await ns.runDeno(FIXTURE, ["enobufs"]);
    assert(result.success, result.stderr);
    const report = JSON.parse(result.stdout.trim());
    assertEquals(report.code, "ENOBUFS");
    assertEquals(
      report.message,
      "recvfrom(AF_NETLINK 0): ENOBUFS (No buffer space available): the receive buffer overflowed and messages were lost; resynchronise",
    );
    assert(report.received > 0, "messages still queued are read after the error");
  },
);

const setprivSkip = labSkipReason();

Deno.test({
  name: `RawIPv4Socket.open() as user nobody reports EPERM with a hint, not a stack trace${
    setprivSkip ? ` (skipped: ${setprivSkip})` : ""
  }`,
  ignore: setprivSkip !== undefined,
  async fn() {
    const denoDir = await Deno.makeTempDir({ prefix: "pfsyncd-nobody-" });
    try {
      await Deno.chmod(denoDir, 0o777);
      const output = await new Deno.Command("setpriv", {
        args: [
          "--reuid=nobody",
          "--regid=nogroup",
          "--clear-groups",
          "env",
          `DENO_DIR=${denoDir}`,
          `HOME=${denoDir}`,
          Deno.execPath(),
          "run",
          "-A",
          "--no-prompt",
          // the fixture imports only relative paths; without the project config,
          // nobody never needs to read or update the lockfile or node_modules
          "--no-config",
          FIXTURE.pathname,
          "open-raw",
        ],
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assertEquals(output.code, 1, stderr);
      assertEquals(
        stderr.trim(),
        "pfsyncd: socket(AF_INET, SOCK_RAW, 112): EPERM (Operation not permitted): run as root or grant CAP_NET_RAW",
      );
    } finally {
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});
