/** `pfsyncd check` end to end: main.ts in a subprocess, as a user runs it. */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const EXAMPLES = [
  "-f",
  "rc/rc.conf.example",
  "-s",
  "rc/sysctl.conf.example",
  "-c",
  "rc/pfsyncd.yaml.example",
];

async function check(...args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "main.ts", "check", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

async function withFiles(
  files: Record<string, string>,
  fn: (path: (name: string) => string) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "pfsyncd-check-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn((name) => `${dir}/${name}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pfsyncd check passes on the bundled examples", async () => {
  const r = await check(...EXAMPLES);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout, "");
  assertStringIncludes(r.stderr, "configuration is valid (0 errors, 0 warnings)");
});

Deno.test("pfsyncd check --json has the stable keys", async () => {
  const r = await check(...EXAMPLES, "--json");
  assertEquals(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assertEquals(out.ok, true);
  assertEquals(out.diagnostics, []);
  assertEquals(
    out.config.carp.map((v: Record<string, unknown>) => ({
      interface: v.interface,
      vhid: v.vhid,
      parent: v.parent,
      advbase: v.advbase,
      advskew: v.advskew,
      addresses: v.addresses,
    })),
    [
      {
        interface: "carp0",
        vhid: 1,
        parent: "em0",
        advbase: 1,
        advskew: 0,
        addresses: ["192.0.2.1/24"],
      },
      {
        interface: "carp1",
        vhid: 2,
        parent: "em1",
        advbase: 1,
        advskew: 0,
        addresses: ["198.51.100.1/24"],
      },
    ],
  );
  const { syncif, syncpeer, maxupd, defer } = out.config.pfsync;
  assertEquals({ syncif, syncpeer, maxupd, defer }, {
    syncif: "em2",
    syncpeer: null,
    maxupd: 128,
    defer: false,
  });
  const { allow, preempt, log } = out.config.sysctl;
  assertEquals({ allow, preempt, log }, { allow: true, preempt: true, log: 1 });
  assertEquals(out.config.carp[0].pass, "<hidden>");
});

Deno.test("pfsyncd check --print masks passphrases unless --show-secrets", async () => {
  const masked = await check(...EXAMPLES, "--print");
  assertEquals(masked.code, 0, masked.stderr);
  assertStringIncludes(masked.stdout, "pass: <hidden>");
  assert(!masked.stdout.includes("lan-wan-secret"));
  const shown = await check(...EXAMPLES, "--print", "--show-secrets");
  assertStringIncludes(shown.stdout, "pass: lan-wan-secret");
});

Deno.test("pfsyncd check exits 1 with file:line:column, source line and caret", async () => {
  await withFiles({
    "rc.conf": 'ifconfig_em0="inet 192.0.2.2/24"\n' +
      'ifconfig_em0_alias0="inet vhid 300 alias 192.0.2.9/32"\n',
    "p.yaml": "provider: sql\n",
  }, async (path) => {
    const r = await check("-f", path("rc.conf"), "-s", path("rc.conf"), "-c", path("p.yaml"));
    assertEquals(r.code, 1);
    assertStringIncludes(
      r.stderr,
      `${path("rc.conf")}:2:32: error: vhid must be a number from 1 to 255, not '300'\n` +
        'ifconfig_em0_alias0="inet vhid 300 alias 192.0.2.9/32"\n' +
        "                               ^~~\n",
    );
    assertStringIncludes(
      r.stderr,
      `${path("p.yaml")}:1:11: error: provider must be one of: memory, conntrack\n` +
        "provider: sql\n          ^",
    );
    assertStringIncludes(r.stderr, "pfsyncd check: 2 errors, 0 warnings");
  });
});

Deno.test("pfsyncd check --json reports errors with the stable keys and exits 1", async () => {
  await withFiles({ "y": "pfsync: {maxupd: 999}\n", "e": "" }, async (path) => {
    const r = await check("-f", path("e"), "-s", path("e"), "-c", path("y"), "--json");
    assertEquals(r.code, 1);
    const out = JSON.parse(r.stdout);
    assertEquals(out, {
      ok: false,
      diagnostics: [{
        file: path("y"),
        line: 1,
        column: 18,
        severity: "error",
        message: "pfsync.maxupd must be from 0 to 255",
      }],
      config: null,
    });
  });
});

Deno.test("pfsyncd check exits 0 with warnings and 1 on a missing explicit file", async () => {
  await withFiles({ "s": "net.inet.carp.arpbalance=1\n", "e": "" }, async (path) => {
    const warned = await check("-f", path("e"), "-s", path("s"), "-c", path("e"));
    assertEquals(warned.code, 0, warned.stderr);
    assertStringIncludes(warned.stderr, `${path("s")}:1:1: warning: net.inet.carp.arpbalance`);
    const missing = await check("-f", path("nope"), "-s", path("s"), "-c", path("e"));
    assertEquals(missing.code, 1);
    assertStringIncludes(missing.stderr, `${path("nope")}: error: cannot read`);
  });
});

Deno.test("pfsyncd check exits 2 on a usage error", async () => {
  const r = await check("--no-such-flag");
  assertEquals(r.code, 2);
  const missingValue = await check("-f");
  assertEquals(missingValue.code, 2);
});

Deno.test("pfsyncd check reads repeated -f files in order, expanding across them", async () => {
  await withFiles({
    "a.conf": "dev=em2\n",
    "b.conf": 'ifconfig_em2="up"\npfsync_enable=YES\npfsync_syncdev=$dev\n',
    "e": "",
  }, async (path) => {
    const r = await check(
      "-f",
      path("a.conf"),
      "-f",
      path("b.conf"),
      "-s",
      path("e"),
      "-c",
      path("e"),
      "--json",
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout).config.pfsync.syncif, "em2");
  });
});
