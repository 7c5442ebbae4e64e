import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { fromHex } from "../../lib/bytes/mod.ts";
import { formatAddress } from "../../lib/net/address.ts";
import { decodeNlMsgHeader, RTM_GETADDR, RTM_GETLINK } from "../../lib/netlink/mod.ts";
import {
  type Interface,
  listInterfaces,
  pickInterfaceForAddress,
  rtnlTransact,
} from "../../lib/sys/interfaces.ts";
import { SysError } from "../../lib/sys/errors.ts";
import { errorReply, FakeKernel, withSeq } from "../netlink/fake_kernel.ts";
import * as V from "../netlink/rtnetlink_vectors.ts";
import { labTest } from "../lab/lab.ts";

const TOOL = new URL("../lab/fixtures/rtnl_tool.ts", import.meta.url);

/** Answers dumps with the recorded namespace (lo, d1, d0 with 192.0.2.1/24). */
function recordedKernel(): FakeKernel {
  return new FakeKernel({
    [RTM_GETLINK]: (
      _,
      h,
    ) => [withSeq(V.GETLINK_DUMP_REPLY, h.seq), withSeq(V.GETLINK_DUMP_DONE, h.seq)],
    [RTM_GETADDR]: (_, h) => [
      withSeq(V.GETADDR_DUMP_REPLY, h.seq),
      withSeq(V.NEWADDR6_EVENT, h.seq), // the v6 address, as a dump entry would carry it
      withSeq(V.GETLINK_DUMP_DONE, h.seq),
    ],
  });
}

Deno.test("listInterfaces() builds interfaces from recorded GETLINK/GETADDR dumps", async () => {
  const kernel = recordedKernel();
  const interfaces = await listInterfaces({ open: () => kernel });
  assert(kernel.closed, "the request socket is closed afterwards");
  assertEquals(kernel.requests.map((r) => decodeNlMsgHeader(r).type), [RTM_GETLINK, RTM_GETADDR]);
  assertEquals(
    interfaces.map((
      i,
    ) => [i.index, i.name, i.up, i.running, i.lowerUp, i.mtu, i.macText, i.operState, i.kind]),
    [
      [1, "lo", false, false, false, 65536, "00:00:00:00:00:00", "down", undefined],
      [2, "d1", false, false, false, 1500, "02:00:00:00:00:02", "down", "veth"],
      [3, "d0", true, false, false, 1500, "02:00:00:00:00:01", "lowerlayerdown", "veth"],
    ],
  );
  assertEquals(interfaces[2].addresses.map((a) => [a.text, a.family, a.label, a.peer]), [
    ["192.0.2.1/24", 4, "d0", undefined],
    ["2001:db8::1/64", 6, undefined, undefined],
  ]);
  assertEquals(interfaces[0].loopback, true);
  assertEquals([interfaces[2].broadcast, interfaces[2].multicast], [true, true]);
});

Deno.test("listInterfaces() reports a failed dump instead of returning a partial list", async () => {
  const kernel = new FakeKernel({
    [RTM_GETLINK]: (request) => [errorReply(request, 1)],
  });
  await assertRejects(
    () => listInterfaces({ open: () => kernel }),
    SysError,
    "rtnetlink RTM_GETLINK dump: EPERM",
  );
  assert(kernel.closed);
});

Deno.test("listInterfaces() re-runs a dump the kernel flagged NLM_F_DUMP_INTR", async () => {
  let linkDumps = 0;
  const kernel = new FakeKernel({
    [RTM_GETLINK]: (_, h) => {
      const reply = withSeq(V.GETLINK_DUMP_REPLY, h.seq);
      if (++linkDumps === 1) reply[6] |= 0x10; // first message: DUMP_INTR
      return [reply, withSeq(V.GETLINK_DUMP_DONE, h.seq)];
    },
    [RTM_GETADDR]: (_, h) => [withSeq(V.GETLINK_DUMP_DONE, h.seq)],
  });
  const interfaces = await listInterfaces({ open: () => kernel });
  assertEquals([linkDumps, interfaces.length], [2, 3]);
});

Deno.test("rtnlTransact() skips other seqs, spans datagrams and times out when silent", async () => {
  const request = fromHex("14000000 12000103 07000000 00000000 00000000");
  const kernel = new FakeKernel({
    [RTM_GETLINK]: () => [
      withSeq(V.GETADDR_DUMP_REPLY, 6), // a late answer to an older request
      withSeq(V.GETLINK_DUMP_REPLY, 7),
      withSeq(V.GETLINK_DUMP_DONE, 7),
    ],
  });
  const result = await rtnlTransact(kernel, request, 7);
  assertEquals([result.errno, result.messages.length], [0, 3]);
  assertEquals(result.messages.every((m) => m.header.seq === 7), true);

  const silent = new FakeKernel({ [RTM_GETLINK]: () => [] });
  await assertRejects(
    () => rtnlTransact(silent, request, 7, 20),
    Error,
    "no reply to request seq 7",
  );
});

function iface(name: string, ...cidrs: Array<[string, number]>): Interface {
  return {
    index: name.length,
    name,
    flags: 0,
    up: true,
    running: true,
    lowerUp: true,
    loopback: false,
    broadcast: true,
    multicast: true,
    pointToPoint: false,
    mtu: 1500,
    operState: "up",
    addresses: cidrs.map(([text, prefix]) => {
      const bytes = text.includes(":")
        ? fromHex(text.replaceAll(":", "").padEnd(32, "0"))
        : Uint8Array.from(text.split("."), Number);
      return {
        family: bytes.length === 4 ? 4 : 6,
        address: bytes,
        prefix,
        text: `${formatAddress(bytes)}/${prefix}`,
        scope: 0,
        flags: 0,
      };
    }),
  };
}

Deno.test("pickInterfaceForAddress() chooses the interface whose subnet holds the address", () => {
  const interfaces = [
    iface("lan", ["192.0.2.1", 24]),
    iface("sync0", ["10.20.0.1", 16]),
    iface("wide", ["10.0.0.1", 8]),
    iface("v6", ["2001:0db8:0000:0000", 64]),
    iface("host", ["198.51.100.7", 32]),
  ];
  const cases: Array<[string, string | undefined]> = [
    ["192.0.2.200", "lan"],
    ["10.20.5.5", "sync0"], // /16 beats the /8 that also holds it
    ["10.99.0.1", "wide"],
    ["2001:db8::42", "v6"],
    ["198.51.100.7", "host"],
    ["198.51.100.8", undefined], // a /32 only holds itself
    ["203.0.113.1", undefined],
  ];
  for (const [address, expected] of cases) {
    assertEquals(pickInterfaceForAddress(interfaces, address)?.name, expected, address);
  }
});

interface Listed {
  name: string;
  index: number;
  up: boolean;
  lowerUp: boolean;
  mtu: number;
  mac?: string;
  addresses: string[];
}

labTest("listInterfaces() matches `ip -j addr` inside a namespace", async (lab) => {
  const a = await lab.namespace("a");
  const b = await lab.namespace("b");
  await lab.link(a, "eth0", b, "eth0", { mtu: 1400 });
  await lab.link(a, "eth1", b, "eth1", { up: false });
  await a.addr("eth0", "192.0.2.1/24");
  await a.addr("eth0", "198.51.100.1/25");
  await a.addr("eth0", "2001:db8::1/64");
  const run = await a.runDeno(TOOL, ["list"]);
  assert(run.success, run.stderr);
  const listed = (JSON.parse(run.stdout) as { interfaces: Listed[] }).interfaces;
  const expected = (await a.links()).map((l) => ({
    name: l.ifname,
    index: l.ifindex,
    up: l.flags.includes("UP"),
    lowerUp: l.flags.includes("LOWER_UP"),
    mtu: l.mtu,
    mac: l.address,
    addresses: (l.addr_info ?? []).map((x) => `${x.local}/${x.prefixlen}`).sort(),
  }));
  const actual = listed.map((l) => ({
    name: l.name,
    index: l.index,
    up: l.up,
    lowerUp: l.lowerUp,
    mtu: l.mtu,
    mac: l.mac,
    addresses: [...l.addresses].sort(),
  }));
  assertEquals(actual, expected);
  assertEquals(actual.find((l) => l.name === "eth0")?.mtu, 1400);
});
