/**
 * Checks every value of lib/sys/platform/linux.ts against the system
 * headers: the table is turned into a C program, gcc compiles it, and its
 * output (constants, errno numbers, struct sizes and member offsets) must
 * match the table exactly. A name the table marks absent must be absent.
 */
import { linux } from "../../lib/sys/platform/linux.ts";
import { CONSTANT_NAMES, STRUCT_NAMES } from "../../lib/sys/platform/types.ts";
import { assertEquals } from "../helpers/assert.ts";

const HEADERS = [
  "stdio.h",
  "stddef.h",
  "errno.h",
  "fcntl.h",
  "poll.h",
  "sys/socket.h",
  "sys/uio.h",
  "netinet/in.h",
  "netinet/icmp6.h",
  "netpacket/packet.h",
  "linux/if_ether.h",
  "linux/netlink.h",
];

function cProgram(): string {
  const lines = [
    "#define _GNU_SOURCE",
    ...HEADERS.map((h) => `#include <${h}>`),
    "int main(void) {",
  ];
  for (const name of CONSTANT_NAMES) {
    lines.push(
      `#ifdef ${name}`,
      `  printf("const ${name} %ld\\n", (long)(${name}));`,
      `#else`,
      `  printf("const ${name} absent\\n");`,
      `#endif`,
    );
  }
  for (const name of Object.keys(linux.errnoNames)) {
    lines.push(`  printf("errno ${name} %d\\n", ${name});`);
  }
  for (const name of STRUCT_NAMES) {
    const layout = linux.structs[name];
    if (!layout) continue;
    lines.push(`  printf("size ${name} %zu\\n", sizeof(struct ${name}));`);
    for (const field of Object.keys(layout.fields)) {
      lines.push(`  printf("offset ${name}.${field} %zu\\n", offsetof(struct ${name}, ${field}));`);
    }
  }
  lines.push(
    `  printf("cmsg header %zu\\n", (size_t)CMSG_LEN(0));`,
    `  printf("cmsg align %zu\\n", (size_t)CMSG_SPACE(1) - (size_t)CMSG_LEN(0));`,
    `  printf("cmsg lenbytes %zu\\n", sizeof(((struct cmsghdr *)0)->cmsg_len));`,
    `  { struct icmp6_filter f; ICMP6_FILTER_SETBLOCKALL(&f);`,
    `    printf("icmp6 blockall %u\\n", ((unsigned char *)&f)[0]); }`,
    "  return 0;",
    "}",
  );
  return lines.join("\n") + "\n";
}

/** What the table claims, in the same line format the C program prints. */
function expectedLines(): string[] {
  const out: string[] = [];
  for (const name of CONSTANT_NAMES) {
    out.push(`const ${name} ${linux.constants[name] ?? "absent"}`);
  }
  for (const [name, value] of Object.entries(linux.errnoNames)) out.push(`errno ${name} ${value}`);
  for (const name of STRUCT_NAMES) {
    const layout = linux.structs[name];
    if (!layout) continue;
    out.push(`size ${name} ${layout.size}`);
    for (const [field, offset] of Object.entries(layout.fields)) {
      out.push(`offset ${name}.${field} ${offset}`);
    }
  }
  const header = linux.structs.cmsghdr!.size;
  out.push(`cmsg header ${header}`, `cmsg align ${linux.cmsgAlign}`);
  out.push(`cmsg lenbytes ${linux.cmsgLenBytes}`);
  out.push(`icmp6 blockall ${linux.icmp6FilterBlockAllByte}`);
  return out;
}

const haveGcc = (() => {
  try {
    return new Deno.Command("gcc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "linux platform table matches the system headers (gcc)",
  ignore: Deno.build.os !== "linux" || (!haveGcc && Deno.env.get("CI") !== "true"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "pfsyncd-platform-" });
    try {
      await Deno.writeTextFile(`${dir}/probe.c`, cProgram());
      const compile = await new Deno.Command("gcc", {
        args: ["-Wall", "-o", `${dir}/probe`, `${dir}/probe.c`],
      }).output();
      assertEquals(compile.success, true, new TextDecoder().decode(compile.stderr));
      const run = await new Deno.Command(`${dir}/probe`).output();
      const actual = new TextDecoder().decode(run.stdout).trim().split("\n");
      assertEquals(actual, expectedLines());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("linux platform table: cmsg types are the options the kernel answers with", () => {
  const c = linux.constants;
  assertEquals(linux.cmsgTypes, {
    ipTtl: c.IP_TTL!, // IP_RECVTTL is answered with an IP_TTL message
    ipIfindex: c.IP_PKTINFO!,
    ipv6PktInfo: c.IPV6_PKTINFO!,
    ipv6HopLimit: c.IPV6_HOPLIMIT!,
  });
  assertEquals(linux.errnoSymbol, "__errno_location");
  assertEquals(linux.sockaddrHasLen, false);
});
