/**
 * `pfsyncd demo` (what `deno task demo` runs), non-interactively with the
 * permission flags of rc/deno-flags: it ends with exit 0 after showing the
 * takeover with every state intact, and leaves no namespace behind; Ctrl-C
 * tears the lab down; without root it says so and exits 1.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { labTest, runCommand, sleep, waitFor } from "./lab.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FLAGS = (await Deno.readTextFile(`${ROOT}rc/deno-flags`)).trim().split(/\s+/);
const DEMO = [Deno.execPath(), "run", ...FLAGS, `${ROOT}main.ts`, "demo"];

/** Namespaces a demo started by `pid` would have created (`pfdemo<pid36>…`). */
async function demoNamespaces(pid: number): Promise<string[]> {
  const listed = (await runCommand(["ip", "netns", "list"])).stdout;
  return listed.split("\n").map((l) => l.split(" ")[0])
    .filter((name) => name.startsWith(`pfdemo${pid.toString(36)}`));
}

async function demo(args: string[]) {
  const child = new Deno.Command(DEMO[0], {
    args: [...DEMO.slice(1), ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stdout + stderr);
  assertMatch(stdout, /fw1 is MASTER of vhid 1 \(inside\) and vhid 2 \(outside\)/);
  assertMatch(stdout, /fw1 MASTER, fw2 BACKUP, both in sync over sync0/);
  const held = /fw2 holds all (\d+) states of fw1 \(learned over pfsync\)/.exec(stdout);
  assert(held, stdout);
  const n = held[1];
  assertMatch(
    stdout,
    new RegExp(`fw2 took over vhid 1 and 2 in \\d+\\.\\d s and holds ${n}/${n} states: intact`),
  );
  // The live panel showed both nodes, before and after the failover.
  assertMatch(stdout, new RegExp(`fw1  inside MASTER  outside MASTER  states +${n}`));
  assertMatch(stdout, /fw1 {2}down/);
  assertMatch(stdout, new RegExp(`fw2  inside MASTER  outside MASTER  states +${n}`));
  const ping = /ping through the firewalls: (\d+) sent, (\d+) answered/.exec(stdout);
  assert(ping && Number(ping[2]) > 0 && Number(ping[2]) <= Number(ping[1]), stdout);
  assertStringIncludes(stdout, "cleaned up: namespaces and temp files removed");
  assertEquals(await demoNamespaces(child.pid), []);
  return { stdout, states: Number(n) };
}

labTest(
  "ops: the demo (conntrack) keeps 10 real TCP connections through the failover",
  async () => {
    const { stdout, states } = await demo(["--connections", "10", "--provider", "conntrack"]);
    assertStringIncludes(stdout, "conntrack provider: the firewalls forward through a stateful");
    assert(states >= 10, `${states} states: the 10 connections and the ping`);
    assertMatch(stdout, /client: 10 TCP connections open, 10 answered in the last second/);
    assertStringIncludes(
      stdout,
      "10/10 TCP connections answered through fw2 after the failure, 0 broken",
    );
    assertStringIncludes(stdout, "every connection kept working.");
  },
  { timeoutMs: 60_000 },
);

labTest("ops: the demo (memory) shows the takeover with every imported state", async () => {
  const { stdout, states } = await demo(["--connections", "12", "--provider", "memory"]);
  assertStringIncludes(stdout, "memory provider: the client's connections are states imported");
  assertEquals(states, 12);
  assertStringIncludes(stdout, "demo done: the backup took over with every state.");
}, { timeoutMs: 60_000 });

labTest("ops: Ctrl-C during the demo tears the lab down (exit 130)", async () => {
  const child = new Deno.Command(DEMO[0], {
    args: DEMO.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: string[] = [];
  const pump = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      chunks.push(chunk);
    }
  })();
  const errText = new Response(child.stderr).text();
  await waitFor(() => chunks.join("").includes("starting fw2"), {
    timeoutMs: 30_000,
    message: "the demo reached its second agent",
  });
  assert((await demoNamespaces(child.pid)).length >= 5, "the lab exists");
  await sleep(300);
  child.kill("SIGINT");
  const status = await child.status;
  await pump;
  assertEquals(status.code, 130, chunks.join(""));
  assertStringIncludes(await errText, "SIGINT: lab torn down");
  assertEquals(await demoNamespaces(child.pid), []);
  // No agent of the demo survives it.
  const ps = (await runCommand(["ps", "-eo", "args"])).stdout;
  assert(!ps.includes(`pfdemo${child.pid.toString(36)}`), ps);
}, { timeoutMs: 60_000 });

labTest("ops: the demo without root says so and exits 1", async () => {
  const home = await Deno.makeTempDir({ prefix: "pfsyncd-nobody-" });
  try {
    await Deno.chmod(home, 0o777);
    const run = await runCommand([
      "setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "env",
      `HOME=${home}`,
      `DENO_DIR=${home}`,
      ...DEMO,
    ]);
    assertEquals(run.code, 1, run.stdout + run.stderr);
    assertStringIncludes(run.stderr, "pfsyncd demo: needs root to create network namespaces");
    assertEquals(run.stdout, "");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
