import { forwardsIpv6 } from "../../lib/agent/carp_runtime.ts";
import { assertEquals } from "../helpers/assert.ts";

/** A /proc stand-in: path → contents; anything else is missing. */
function proc(files: Record<string, string>): (path: string) => string {
  return (path) => {
    if (path in files) return files[path];
    throw new Deno.errors.NotFound(path);
  };
}

Deno.test("forwardsIpv6() reads net.ipv6.conf.<if>.forwarding of the interface itself", () => {
  const read = proc({
    "/proc/sys/net/ipv6/conf/in0/forwarding": "1\n",
    "/proc/sys/net/ipv6/conf/out0/forwarding": "0\n",
    // A dotted name (VLAN, the virtual-MAC macvlan) is one path component, not a sysctl level.
    "/proc/sys/net/ipv6/conf/eth0.c7/forwarding": "1\n",
  });
  assertEquals(
    ["in0", "out0", "eth0.c7"].map((name) => forwardsIpv6(name, read)),
    [true, false, true],
  );
});

Deno.test("forwardsIpv6() is false where the setting cannot be read (no IPv6, not Linux)", () => {
  assertEquals(forwardsIpv6("eth9", proc({})), false);
});
