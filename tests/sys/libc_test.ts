import { errno, libc, strerror } from "../../lib/sys/libc.ts";
import { linux, platform } from "../../lib/sys/platform/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("lib/sys and lib/net import without --allow-ffi; libc() then names the flag", async () => {
  const fixture = new URL("./fixtures/import_without_ffi.ts", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", fixture],
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  assert(report.exported > 20, "modules were really imported");
  assertEquals(report.message, "cannot open libc: FFI is not permitted; run deno with --allow-ffi");
});

Deno.test("libc() opens once and returns the same symbol table", () => {
  assert(libc() === libc());
});

Deno.test("errno() reads the thread's errno right after a failing call", () => {
  assertEquals(libc().close(-1), -1);
  assertEquals(errno(), platform().errnoNames.EBADF);
});

Deno.test({
  name: "strerror() returns the C library's text",
  ignore: Deno.build.os !== "linux",
  fn() {
    assertEquals(strerror(linux.errnoNames.ENOBUFS), "No buffer space available");
  },
});
