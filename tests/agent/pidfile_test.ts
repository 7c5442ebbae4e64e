import {
  acquirePidFile,
  PidFileLockedError,
  processIsAlive,
  readPid,
} from "../../lib/agent/pidfile.ts";
import { assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";

async function withTempDir(body: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pidtest-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The pid of a process that has exited (and been reaped), so nothing owns it now. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

const PIDFILE_MODULE = new URL("../../lib/agent/pidfile.ts", import.meta.url).href;

/** Starts another process holding the pid file; resolves once it holds it. */
async function holderProcess(path: string): Promise<Deno.ChildProcess> {
  const code = `import { acquirePidFile } from ${JSON.stringify(PIDFILE_MODULE)};
acquirePidFile(${JSON.stringify(path)}); console.log("held"); setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  await child.stdout.cancel();
  return child;
}

Deno.test("acquirePidFile() writes the pid and release() removes the file", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/pfsyncd.pid`;
    const pidfile = acquirePidFile(path, 4321);
    assertEquals(Deno.readTextFileSync(path), "4321\n");
    assertEquals([pidfile.path, pidfile.pid], [path, 4321]);
    pidfile.release();
    pidfile.release();
    assertThrows(() => Deno.statSync(path), Deno.errors.NotFound);
  });
});

Deno.test("acquirePidFile() refuses a second instance, naming the first one's pid", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/pfsyncd.pid`;
    const first = acquirePidFile(path);
    try {
      const error = assertThrows(() => acquirePidFile(path, 99), PidFileLockedError);
      assertEquals(error.pid, Deno.pid);
      assertStringIncludes(error.message, `pfsyncd pid ${Deno.pid}`);
      assertStringIncludes(error.message, "already running");
      // The refused attempt must not have touched the running agent's file.
      assertEquals(Deno.readTextFileSync(path), `${Deno.pid}\n`);
    } finally {
      first.release();
    }
    // Once released, the next instance starts.
    acquirePidFile(path, 99).release();
  });
});

Deno.test("acquirePidFile() replaces a stale file whatever it holds", async () => {
  const stale = await deadPid();
  await withTempDir((dir) => {
    const path = `${dir}/pfsyncd.pid`;
    // A dead agent's pid, garbage, a longer pid than ours, and our own pid reused.
    for (const content of [`${stale}\n`, "garbage", "12345678901\n", `${Deno.pid}\n`]) {
      Deno.writeTextFileSync(path, content);
      const pidfile = acquirePidFile(path, 77);
      assertEquals(Deno.readTextFileSync(path), "77\n", `after ${JSON.stringify(content)}`);
      pidfile.release();
    }
  });
});

Deno.test("acquirePidFile() sees another process's lock, and takes over once it is killed", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/pfsyncd.pid`;
    const holder = await holderProcess(path);
    try {
      const error = assertThrows(() => acquirePidFile(path), PidFileLockedError);
      assertEquals(error.pid, holder.pid);
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
    }
    // SIGKILL left the file behind with the dead pid; the lock died with it.
    assertEquals(readPid(Deno.readTextFileSync(path)), holder.pid);
    const pidfile = acquirePidFile(path);
    assertEquals(Deno.readTextFileSync(path), `${Deno.pid}\n`);
    pidfile.release();
  });
});

Deno.test("processIsAlive() answers like kill(pid, 0)", async () => {
  const table: [string, number, boolean][] = [
    ["this process", Deno.pid, true],
    ["init", 1, true],
    ["a reaped child", await deadPid(), false],
    ["zero", 0, false],
    ["negative", -1, false],
    ["fractional", 1.5, false],
  ];
  for (const [name, pid, alive] of table) assertEquals(processIsAlive(pid), alive, name);
});

Deno.test("readPid() reads a decimal pid and nothing else", () => {
  const table: [string, number | undefined][] = [
    ["123\n", 123],
    ["  42  ", 42],
    ["", undefined],
    ["0\n", undefined],
    ["12ab", undefined],
    ["-5", undefined],
  ];
  for (const [text, pid] of table) assertEquals(readPid(text), pid, JSON.stringify(text));
});
