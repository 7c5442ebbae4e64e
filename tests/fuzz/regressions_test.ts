/**
 * Inputs the fuzzer found that broke a decoder, kept as plain tests: each
 * crashed (or broke a documented contract) before its fix. The hex is the
 * minimised input; the comment names the fuzz target that found it.
 */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError } from "../../lib/bytes/errors.ts";
import { fromHex } from "../../lib/bytes/hex.ts";
import { DiagnosticSink, loadConfig, parseRcConf, parseYamlConfig } from "../../lib/config/mod.ts";
import { classifyNlMessage, splitNlMessages } from "../../lib/netlink/mod.ts";

/** The netlink vectors are host order as captured on x86_64; big-endian hosts skip them. */
const HOST_LE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

Deno.test("classifyNlMessage() extended ACK echoing nlmsg_len 0x80000000 is an error reply, not a RangeError (rtnetlink fuzz)", () => {
  if (!HOST_LE) return;
  // NLMSG_ERROR, flags ACK_TLVS, errno -1, echoed header claiming 2 GiB.
  const [message] = splitNlMessages(
    fromHex("24000000 0200 0002 01000000 00000000 ffffffff 00000080 00000000 00000000 00000000"),
  );
  const reply = classifyNlMessage(message);
  assertEquals(reply.kind, "error");
  assertEquals(reply.kind === "error" ? [reply.errno, reply.extMessage] : [], [1, undefined]);
});

Deno.test("classifyNlMessage() positive NLMSG_ERROR status is badval, not a negative errno (ct-provider fuzz)", () => {
  if (!HOST_LE) return;
  const [message] = splitNlMessages(fromHex("14000000 0200 0000 01000000 00000000 2e000000"));
  const error = assertThrows(() => classifyNlMessage(message), DecodeError);
  assertEquals(error.reason, "badval");
});

Deno.test("parseYamlConfig() reports an alias that cannot resolve instead of throwing (yaml fuzz)", () => {
  for (const [text, line, column] of [["a: *b\n", 1, 4], ["carp: [*x, &x 1]\n", 1, 8]] as const) {
    const sink = new DiagnosticSink();
    assertEquals(parseYamlConfig(text, "y.yaml", sink), undefined);
    assertEquals(sink.items.map((d) => [d.severity, d.line, d.column]), [["error", line, column]]);
  }
});

Deno.test("parseRcConf() backslash at end of file inside double quotes is an unterminated quote (rc.conf fuzz)", () => {
  const sink = new DiagnosticSink();
  parseRcConf(new TextDecoder().decode(fromHex("613d225c")), "rc.conf", new Map(), sink); // a="\
  assertEquals(sink.items.map((d) => `${d.line}:${d.column} ${d.message}`), [
    "1:3 unterminated double quote; sh would reject this file",
  ]);
});

Deno.test("loadConfig() interface with only a dead ifconfig_IF_alias1 warns instead of crashing (config fuzz)", async () => {
  const files: Record<string, string> = {
    "/etc/rc.conf": 'ifconfig_em0_alias1="inet 192.0.2.5/32"\n',
  };
  const result = await loadConfig({
    rcFiles: ["/etc/rc.conf"],
    sysctlFile: "/etc/sysctl.conf",
    yamlFile: "/etc/pfsyncd.yaml",
    readFile: (p) => Promise.resolve(files[p] ?? ""),
    machineIdFiles: [],
  });
  assertEquals(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity}`), [
    "1:1 warning",
  ]);
});
