import { carpVirtualMacName } from "../../lib/carp/vmac.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("carpVirtualMacName() is <parent>.c<vhid>, cut to the kernel's 15 bytes", () => {
  const cases: Array<[string, number, string]> = [
    ["eth0", 1, "eth0.c1"],
    ["em1", 255, "em1.c255"],
    ["enp0s31f6", 200, "enp0s31f6.c200"],
    ["averyverylongif", 7, "averyverylon.c7"],
    ["averyverylongif", 255, "averyveryl.c255"],
  ];
  for (const [parent, vhid, name] of cases) {
    assertEquals(carpVirtualMacName(parent, vhid), name);
    assert(name.length <= 15, name);
  }
});
