import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "../helpers/assert.ts";
import {
  checkLabCidr,
  labSkipReason,
  labTest,
  privilegedTest,
  processAlive,
  runCommand,
  sweepDeadRuns,
  waitFor,
  withLab,
} from "./lab.ts";

async function netnsNames(): Promise<string[]> {
  const list = await runCommand(["ip", "netns", "list"]);
  return list.stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("checkLabCidr() accepts only the lab ranges", () => {
  const cases: Array<[string, boolean]> = [
    ["192.0.2.1/24", true],
    ["198.51.100.7/32", true],
    ["203.0.113.254/24", true],
    ["10.20.0.5/16", true],
    ["2001:db8::1/64", true],
    ["192.0.3.1/24", false], // next to TEST-NET-1
    ["192.168.1.1/24", false],
    ["8.8.8.8/32", false],
    ["10.0.0.0/7", false], // wider than 10/8
    ["2001:db9::1/64", false],
  ];
  for (const [cidr, ok] of cases) {
    let accepted = true;
    try {
      checkLabCidr(cidr);
    } catch {
      accepted = false;
    }
    assertEquals(accepted, ok, cidr);
  }
});

Deno.test("runCommand() feeds stdin without throwing or deadlocking", async () => {
  const big = "x".repeat(1 << 20);
  const cases: { argv: string[]; stdout: number; success: boolean }[] = [
    { argv: ["cat"], stdout: big.length, success: true }, // output larger than a pipe buffer
    { argv: ["true"], stdout: 0, success: true }, // exits without reading: BrokenPipe
    { argv: ["sh", "-c", "exit 3"], stdout: 0, success: false },
  ];
  for (const c of cases) {
    const result = await runCommand(c.argv, { stdin: big });
    assertEquals([result.stdout.length, result.success], [c.stdout, c.success], c.argv.join(" "));
  }
});

Deno.test("labSkipReason() never skips under CI=true", () => {
  const saved = Deno.env.get("CI");
  try {
    Deno.env.set("CI", "true");
    assertEquals(labSkipReason(), undefined);
    Deno.env.set("CI", "false");
    assertEquals(labSkipReason() === undefined, Deno.uid() === 0);
  } finally {
    if (saved === undefined) Deno.env.delete("CI");
    else Deno.env.set("CI", saved);
  }
});

Deno.test("waitFor() returns the first truthy value or names what timed out", async () => {
  let calls = 0;
  assertEquals(await waitFor(() => ++calls >= 3 && calls, { intervalMs: 1 }), 3);
  const error = await assertRejects(
    () => waitFor(() => false, { timeoutMs: 30, intervalMs: 5, message: "the moon" }),
  );
  assertStringIncludes(error.message, "the moon not met within 30 ms");
});

labTest("lab.link() joins two namespaces with a veth pair that carries traffic", async (lab) => {
  const a = await lab.namespace("a");
  const b = await lab.namespace("b");
  assertMatch(a.name, /^pfs[0-9a-z]+-[0-9a-z]{4}[0-9]+-a$/);
  await lab.link(a, "veth-a", b, "veth-b", { macA: "02:00:5e:00:00:0a" });
  await a.addr("veth-a", "192.0.2.1/24");
  await b.addr("veth-b", "192.0.2.2/24");
  assertEquals(await a.mac("veth-a"), "02:00:5e:00:00:0a");
  assertEquals(await a.addresses("veth-a"), ["192.0.2.1/24"]);
  const ping = await a.run(["ping", "-c", "1", "-W", "2", "192.0.2.2"]);
  assert(ping.success, ping.stdout + ping.stderr);
  await assertRejects(() => a.addr("veth-a", "192.168.0.1/24"), Error, "outside");
});

labTest("lab.bridge() switches between three namespaces", async (lab) => {
  const sw = await lab.namespace("sw");
  const hosts = [await lab.namespace("h1"), await lab.namespace("h2"), await lab.namespace("h3")];
  for (const [i, host] of hosts.entries()) {
    await lab.link(sw, `p${i}`, host, "eth0");
    await host.addr("eth0", `198.51.100.${i + 1}/24`);
  }
  await lab.bridge(sw, "br0", ["p0", "p1", "p2"]);
  for (const target of ["198.51.100.2", "198.51.100.3"]) {
    const ping = await hosts[0].run(["ping", "-c", "1", "-W", "2", target]);
    assert(ping.success, `${target}: ${ping.stdout}${ping.stderr}`);
  }
});

labTest("ns.spawn() output is captured and kill() reaches the whole process group", async (lab) => {
  const ns = await lab.namespace("p");
  const proc = ns.spawn(["sh", "-c", "echo started; sleep 300 & sleep 300"]);
  await proc.waitForOutput(/started/);
  assertEquals((await ns.run(["true"])).code, 0);
  const before = await runCommand(["ip", "netns", "pids", ns.name]);
  assertEquals(before.stdout.trim().split("\n").length, 3); // sh + two sleeps
  proc.kill("SIGTERM");
  assert(await proc.waitExit(2_000), "process group did not exit");
  await waitFor(
    async () => (await runCommand(["ip", "netns", "pids", ns.name])).stdout.trim() === "",
    {
      message: "both sleeps gone",
    },
  );
  const failing = await ns.run(["sh", "-c", "echo oops >&2; exit 3"]);
  assertEquals([failing.code, failing.stderr.trim()], [3, "oops"]);
  await assertRejects(() => ns.exec(["sh", "-c", "echo nope >&2; exit 1"]), Error, "nope");
});

labTest("ns.tcpdump() captures what crosses the link and stop() returns the pcap", async (lab) => {
  const a = await lab.namespace("a");
  const b = await lab.namespace("b");
  await lab.link(a, "eth0", b, "eth0");
  await a.addr("eth0", "203.0.113.1/24");
  await b.addr("eth0", "203.0.113.2/24");
  const capture = await b.tcpdump("eth0", "icmp");
  await a.exec(["ping", "-c", "2", "-i", "0.2", "-W", "2", "203.0.113.2"]);
  const pcap = await capture.stop();
  assert(Deno.statSync(pcap).size > 24, "pcap has packets");
  const text = await capture.text();
  assertStringIncludes(text, "203.0.113.1 > 203.0.113.2: ICMP echo request");
});

labTest("ns.spawnDeno() runs a script inside the namespace with this deno", async (lab) => {
  const ns = await lab.namespace("d");
  const script = lab.tempPath("hello.ts");
  await Deno.writeTextFile(
    script,
    `const c = new Deno.Command("ip", { args: ["-j", "link"] }).outputSync();
     const names = JSON.parse(new TextDecoder().decode(c.stdout)).map((l) => l.ifname);
     console.log(JSON.stringify({ names }));`,
  );
  const proc = ns.spawnDeno(script);
  assert(await proc.waitExit(20_000), "deno script did not finish");
  assertEquals(proc.jsonLines(), [{ names: ["lo"] }]); // only the namespace's own lo
});

privilegedTest(
  "withLab() deletes namespaces and temp files even when the body throws",
  async () => {
    let name = "";
    let tmp = "";
    await assertRejects(
      () =>
        withLab(async (lab) => {
          const ns = await lab.namespace("boom");
          name = ns.name;
          tmp = lab.tmpDir;
          ns.spawn(["sleep", "300"]);
          throw new Error("test body failed");
        }),
      Error,
      "test body failed",
    );
    assert(!(await netnsNames()).includes(name), `${name} left behind`);
    assert(!exists(tmp), `${tmp} left behind`);
  },
);

privilegedTest("sweepDeadRuns() removes namespaces of dead runs only", async () => {
  const pidMax = Number(Deno.readTextFileSync("/proc/sys/kernel/pid_max").trim());
  let dead = pidMax;
  while (exists(`/proc/${dead}`)) dead--; // highest free pid: no live process owns it
  const stale = `pfs${dead.toString(36)}-zzzz0-stale`;
  const live = `pfs${Deno.pid.toString(36)}-zzzz1-live`;
  const others = [
    "pfsother-zz2", // not our naming: must be left alone
    "pfsyncd-platform-x", // close to ours (another test's temp prefix): must survive too
    `pfs${(pidMax + 1).toString(36)}-zzzz2-x`, // not a possible pid
  ];
  try {
    for (const n of [stale, live, ...others]) {
      assert((await runCommand(["ip", "netns", "add", n])).success, `add ${n}`);
    }
    const removed = await sweepDeadRuns();
    assert(removed.includes(stale), "stale namespace swept");
    const names = await netnsNames();
    assertEquals(names.includes(stale), false);
    assertEquals([live, ...others].filter((n) => !names.includes(n)), []);
  } finally {
    for (const n of [stale, live, ...others]) await runCommand(["ip", "netns", "del", n]);
  }
});

privilegedTest("Lab tears down on SIGINT of the test run", async () => {
  const fixture = new URL("./fixtures/interrupted_lab.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fixture],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const info = JSON.parse(text) as { ns: string; pid: number; tmpDir: string };
    assert((await netnsNames()).includes(info.ns));
    child.kill("SIGINT");
    const status = await child.status;
    assertEquals(status.code, 130);
    assert(!(await netnsNames()).includes(info.ns), "namespace survived SIGINT");
    assert(!processAlive(info.pid), "spawned process survived SIGINT");
    assert(!exists(info.tmpDir), "temp dir survived SIGINT");
  } finally {
    reader.releaseLock();
    await child.stdout.cancel().catch(() => undefined);
    await child.stderr.cancel().catch(() => undefined);
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
  }
});
