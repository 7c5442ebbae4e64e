import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  hookEnvironment,
  HookQueue,
  hookScriptsFor,
  transitionHookJob,
} from "../../lib/carp/mod.ts";
import { cidr, vhostConfig } from "./fake_world.ts";

async function script(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

const config = vhostConfig({
  interface: "carp0",
  parent: "eth1",
  vhid: 7,
  addresses: [cidr("192.0.2.100/24"), cidr("2001:db8::100/64")],
});

Deno.test("hookEnvironment() sets every CARP_* variable", () => {
  assertEquals(hookEnvironment(config, "BACKUP", "MASTER", "master timed out"), {
    CARP_VHID: "7",
    CARP_INTERFACE: "carp0",
    CARP_PARENT: "eth1",
    CARP_STATE: "MASTER",
    CARP_PREVIOUS_STATE: "BACKUP",
    CARP_REASON: "master timed out",
    CARP_ADDRESSES: "192.0.2.100/24 2001:db8::100/64",
  });
});

Deno.test("HookQueue runs scripts one at a time in transition order with the environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out`;
    // The first job is the slowest: if jobs overlapped, its line would come last.
    const hook = await script(
      dir,
      "hook",
      `[ "$CARP_STATE" = BACKUP ] && sleep 0.3
echo "start $CARP_PREVIOUS_STATE->$CARP_STATE $CARP_VHID@$CARP_PARENT ($CARP_REASON)" >> ${out}
echo "end $CARP_STATE" >> ${out}`,
    );
    const logs: string[] = [];
    const queue = new HookQueue({ timeoutMs: 5000, log: (l) => logs.push(l) });
    const began = performance.now();
    queue.enqueue(
      transitionHookJob({ config, from: "INIT", to: "BACKUP", reason: "started" }, [hook]),
    );
    queue.enqueue(
      transitionHookJob({ config, from: "BACKUP", to: "MASTER", reason: "master timed out" }, [
        hook,
      ]),
    );
    queue.enqueue(
      transitionHookJob({ config, from: "MASTER", to: "INIT", reason: "shutdown" }, [hook]),
    );
    assert(performance.now() - began < 50, "enqueue never waits for a script");
    assertEquals(queue.pending, 3);
    await queue.idle();
    assertEquals((await Deno.readTextFile(out)).trim().split("\n"), [
      "start INIT->BACKUP 7@eth1 (started)",
      "end BACKUP",
      "start BACKUP->MASTER 7@eth1 (master timed out)",
      "end MASTER",
      "start MASTER->INIT 7@eth1 (shutdown)",
      "end INIT",
    ]);
    assertEquals(queue.pending, 0);
    assertEquals(logs.length, 3);
    assertMatch(logs[0], /^carp: 7@eth1: hook .*\/hook exited 0$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HookQueue logs exit status and output of a failing script and goes on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = await script(dir, "bad", "echo 'no route to 192.0.2.1'\necho oops >&2\nexit 3");
    const good = await script(dir, "good", "true");
    const logs: string[] = [];
    const queue = new HookQueue({ timeoutMs: 5000, log: (l) => logs.push(l) });
    queue.enqueue({ label: "carp: 1@eth1", scripts: [bad, good], env: {} });
    queue.enqueue({ label: "carp: 1@eth1", scripts: [`${dir}/missing`], env: {} });
    await queue.idle();
    assertEquals(logs.length, 3);
    assertMatch(
      logs[0],
      /hook .*\/bad exited 3: (no route to 192\.0\.2\.1 \| oops|oops \| no route to 192\.0\.2\.1)$/,
    );
    assertMatch(logs[1], /hook .*\/good exited 0$/);
    assertMatch(logs[2], /hook .*\/missing could not run: /);
    assertEquals(queue.results.map((r) => r.code), [3, 0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HookQueue kills a script past its timeout and runs the next one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const slow = await script(dir, "slow", "echo begun\nexec sleep 10");
    // A child that outlives the killed shell keeps the pipes open; the queue must not hang on it.
    const orphaning = await script(dir, "orphaning", "sleep 2 &\nexec sleep 10");
    const after = await script(dir, "after", `echo ran > ${dir}/after.out`);
    const logs: string[] = [];
    const queue = new HookQueue({ timeoutMs: 200, killGraceMs: 100, log: (l) => logs.push(l) });
    const began = performance.now();
    queue.enqueue({ label: "carp: 1@eth1", scripts: [slow, orphaning, after], env: {} });
    await queue.idle();
    const elapsed = performance.now() - began;
    assert(elapsed < 1500, `took ${elapsed} ms`);
    assertEquals(queue.results.map((r) => r.timedOut), [true, true, false]);
    assertMatch(logs[0], /slow timed out after \d+ ms \(SIGTERM\): begun$/);
    assertEquals(await Deno.readTextFile(`${dir}/after.out`), "ran\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hookScriptsFor() runs the catch-all scripts first, then the vhid's own", () => {
  const table = { "*": ["/etc/pfsyncd/all"], "7": ["/etc/pfsyncd/seven"], "8": ["/x"] };
  const cases: Array<[number, string[]]> = [
    [7, ["/etc/pfsyncd/all", "/etc/pfsyncd/seven"]],
    [9, ["/etc/pfsyncd/all"]],
  ];
  for (const [vhid, scripts] of cases) assertEquals(hookScriptsFor(table, vhid), scripts);
  assertEquals(hookScriptsFor({}, 1), []);
});
