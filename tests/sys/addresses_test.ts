import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/mod.ts";
import { RTM_DELADDR, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR } from "../../lib/netlink/mod.ts";
import { addAddress, removeAddress } from "../../lib/sys/addresses.ts";
import { SysError } from "../../lib/sys/errors.ts";
import { errorReply, FakeKernel, withSeq } from "../netlink/fake_kernel.ts";
import * as V from "../netlink/rtnetlink_vectors.ts";
import { labTest } from "../lab/lab.ts";

const TOOL = new URL("../lab/fixtures/rtnl_tool.ts", import.meta.url);

/** A kernel whose address requests all end with `errno` (0 = ACK). */
function kernelAnswering(errno: number): FakeKernel {
  return new FakeKernel({
    [RTM_NEWADDR]: (request) => [errorReply(request, errno)],
    [RTM_DELADDR]: (request) => [errorReply(request, errno)],
    [RTM_GETLINK]: (
      _,
      h,
    ) => [withSeq(V.GETLINK_DUMP_REPLY, h.seq), withSeq(V.GETLINK_DUMP_DONE, h.seq)],
    [RTM_GETADDR]: (_, h) => [withSeq(V.GETLINK_DUMP_DONE, h.seq)],
  });
}

/** The request with its seq zeroed, to compare with iproute2's (seq differs). */
function unseq(bytes: Uint8Array): string {
  const copy = bytes.slice();
  copy.fill(0, 8, 12);
  return toHex(copy);
}

Deno.test("addAddress()/removeAddress() send what `ip addr add/del` sends and map errno", async () => {
  const cases: Array<[string, () => Promise<string>, number, string, string]> = [
    ["v4 add", () => addAddress(3, "192.0.2.1/24", { open }), 0, "added", V.IP_ADDR_ADD_V4],
    ["v4 add again", () => addAddress(3, "192.0.2.1/24", { open }), 17, "exists", V.IP_ADDR_ADD_V4],
    [
      "v6 add, nodad by default",
      () => addAddress(3, "2001:db8::2/64", { open }),
      0,
      "added",
      V.IP_ADDR_ADD_V6_NODAD,
    ],
    [
      "v6 remove",
      () => removeAddress(3, "2001:db8::2/64", { open }),
      0,
      "removed",
      V.IP_ADDR_DEL_V6,
    ],
    [
      "v6 remove absent",
      () => removeAddress(3, "2001:db8::2/64", { open }),
      99,
      "absent",
      V.IP_ADDR_DEL_V6,
    ],
    [
      "v6 remove ENOENT",
      () => removeAddress(3, "2001:db8::2/64", { open }),
      2,
      "absent",
      V.IP_ADDR_DEL_V6,
    ],
  ];
  let kernel = kernelAnswering(0);
  function open() {
    return kernel;
  }
  for (const [name, call, errno, expected, wire] of cases) {
    kernel = kernelAnswering(errno);
    assertEquals(await call(), expected, name);
    assertEquals(unseq(kernel.requests[0]), unseq(fromHex(wire)), name);
    assert(kernel.closed, `${name}: socket closed`);
  }
});

Deno.test("addAddress() can keep DAD for IPv6 when asked", async () => {
  const kernel = kernelAnswering(0);
  await addAddress(3, "2001:db8::2/64", { open: () => kernel, nodad: false });
  assertEquals(kernel.requests[0][18], 0); // ifa_flags: no IFA_F_NODAD
});

Deno.test("addAddress() errors are SysErrors naming the interface and a hint", async () => {
  const cases: Array<[number, string, string]> = [
    [1, "EPERM", "RTM_NEWADDR 192.0.2.1/24 dev d0 (ifindex 3): EPERM"],
    [19, "ENODEV", "RTM_NEWADDR 192.0.2.1/24 dev d0 (ifindex 3): ENODEV"],
    [22, "EINVAL", "refused the address"],
  ];
  for (const [errno, code, text] of cases) {
    // A fresh fake per socket: the error path opens a second one for the name.
    const error = await assertRejects(
      () => addAddress(3, "192.0.2.1/24", { open: () => kernelAnswering(errno) }),
      SysError,
    );
    assertEquals(error.code, code);
    assert(error.message.includes(text), error.message);
  }
  const error = await assertRejects(
    () => removeAddress(3, "192.0.2.1/24", { open: () => kernelAnswering(1), ifname: "lan0" }),
    SysError,
  );
  assert(error.message.startsWith("RTM_DELADDR 192.0.2.1/24 dev lan0: EPERM"), error.message);
  assert(error.message.endsWith("run as root or grant CAP_NET_ADMIN"), error.message);
  await assertRejects(() => addAddress(3, "192.0.2.300/24"), Error, "not an address/prefix");
});

labTest(
  "addAddress() through rtnetlink shows in `ip addr`, removeAddress() takes it away",
  async (lab) => {
    const ns = await lab.namespace("fw");
    const peer = await lab.namespace("peer");
    await lab.link(ns, "lan0", peer, "lan0");
    const added = await ns.runDeno(TOOL, [
      "add",
      "lan0",
      "192.0.2.10/24",
      "lan0",
      "2001:db8::10/64",
      "lan0",
      "192.0.2.10/24",
    ]);
    assert(added.success, added.stderr);
    assertEquals(added.stdout.trim().split("\n").map((l) => JSON.parse(l).result), [
      "added",
      "added",
      "exists",
    ]);
    assertEquals((await ns.addresses("lan0")).sort(), ["192.0.2.10/24", "2001:db8::10/64"]);
    const flags =
      (await ns.ipJson<Array<{ addr_info: Array<{ local: string; tentative?: boolean }> }>>([
        "addr",
        "show",
        "dev",
        "lan0",
      ]))[0].addr_info.find((a) => a.local === "2001:db8::10");
    assertEquals(flags?.tentative, undefined); // nodad: usable at once, no DAD wait

    const removed = await ns.runDeno(TOOL, [
      "remove",
      "lan0",
      "192.0.2.10/24",
      "lan0",
      "2001:db8::10/64",
      "lan0",
      "192.0.2.10/24",
    ]);
    assert(removed.success, removed.stderr);
    assertEquals(removed.stdout.trim().split("\n").map((l) => JSON.parse(l).result), [
      "removed",
      "removed",
      "absent",
    ]);
    assertEquals(await ns.addresses("lan0"), []);
  },
);
