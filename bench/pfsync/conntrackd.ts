/**
 * conntrackd (Debian's 1.4.x) beside pfsyncd, in the same kind of lab: two
 * namespaces joined by a veth sync link, FTFW over UDP with peers.md's
 * settings (socket buffers 1.2 MB, netlink buffer 2 MB growing to 8 MB,
 * HashSize 262144, HashLimit 4 M), the external cache on.
 *
 * - live A→B: the issue-6 benchmark's conntrackd run (bench/conntrack/
 *   sync_rate.ts): `conntrack -R` of N ESTABLISHED entries on A until B's
 *   kernel table holds them.
 * - resync: A's kernel table holds N entries before A's conntrackd starts
 *   (it dumps them into its internal cache); B's conntrackd runs
 *   `conntrackd -n` (request a resync) and a shell loop inside B's namespace
 *   polls `conntrackd -s` until B's external cache holds N. Resident memory
 *   per state is B's RSS growth over its empty self.
 *
 * The kernel's conntrack limit (nf_conntrack_max) is host-wide and read-only
 * inside a namespace; a count above it needs the host's value raised, which
 * `measureConntrackdResync` does only when `raiseLimit` is set and restores
 * afterwards.
 */
import { procFigures, restoreFile, type SyncRun, syncRuns } from "../conntrack/sync_rate.ts";
import { type Lab, type Ns, sleep, withLab } from "../../tests/lab/lab.ts";

export interface ConntrackdResync {
  readonly n: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly reached: number;
  readonly rssPerStateB: number;
  readonly rssMbB: number;
  readonly rssPerStateA: number;
  readonly note?: string;
  /** B's external cache over seconds since the resync request (for the report's plot). */
  readonly curve: [number, number][];
}

function conf(lab: Lab, name: string, self: string, peer: string): string {
  const path = (file: string) => lab.tempPath(`${name}-${file}`);
  return [
    "Sync {",
    "\tMode FTFW {",
    "\t}",
    "\tUDP {",
    `\t\tIPv4_address ${self}`,
    `\t\tIPv4_Destination_Address ${peer}`,
    "\t\tPort 3780",
    "\t\tInterface sync0",
    "\t\tSndSocketBuffer 1249280",
    "\t\tRcvSocketBuffer 1249280",
    "\t\tChecksum on",
    "\t}",
    "}",
    "General {",
    "\tHashSize 262144",
    "\tHashLimit 4194304",
    `\tLogFile ${path("conntrackd.log")}`,
    "\tSyslog off",
    `\tLockFile ${path("conntrackd.lock")}`,
    "\tUNIX {",
    `\t\tPath ${path("conntrackd.sock")}`,
    "\t}",
    "\tNetlinkBufferSize 2097152",
    "\tNetlinkBufferSizeMaxGrowth 8388608",
    "}",
    "",
  ].join("\n");
}

const RULESET = "add table inet bench; " +
  "add chain inet bench pass { type filter hook forward priority 0; }; " +
  "add rule inet bench pass ct state established accept";

async function host(args: string[]): Promise<string> {
  const out = await new Deno.Command(args[0], {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

const LIMIT = "/proc/sys/net/netfilter/nf_conntrack_max";

/** conntrackd's resync of N states into B's external cache. */
export async function measureConntrackdResync(
  n: number,
  options: { raiseLimit?: boolean } = {},
): Promise<ConntrackdResync> {
  const limit = Number(await Deno.readTextFile(LIMIT));
  let restoreLimit: number | undefined;
  if (n + 1000 > limit) {
    if (!options.raiseLimit) {
      throw new Error(`nf_conntrack_max is ${limit}, below ${n} (host-wide)`);
    }
    await host(["sysctl", "-q", "-w", `net.netfilter.nf_conntrack_max=${n + 50_000}`]);
    restoreLimit = limit;
  }
  try {
    return await withLab(async (lab) => {
      const a = await lab.namespace("cta");
      const b = await lab.namespace("ctb");
      // conntrackd's own best link: with MTU 9000 its larger datagrams
      // overran the 1.2 MB socket buffers and the resync fell short.
      await lab.link(a, "sync0", b, "sync0");
      await a.addr("sync0", "10.99.0.1/30");
      await b.addr("sync0", "10.99.0.2/30");
      for (const ns of [a, b]) await ns.exec(["nft", RULESET]);
      const file = lab.tempPath("states.restore");
      await Deno.writeTextFile(file, restoreFile(n));
      const restored = await a.run(["conntrack", "-R", file], { timeoutMs: 300_000 });
      if (!restored.success) throw new Error(`conntrack -R: ${restored.stderr}`);
      const confA = lab.tempPath("a.conf");
      const confB = lab.tempPath("b.conf");
      await Deno.writeTextFile(confA, conf(lab, "a", "10.99.0.1", "10.99.0.2"));
      await Deno.writeTextFile(confB, conf(lab, "b", "10.99.0.2", "10.99.0.1"));
      const procB = b.spawn(["conntrackd", "-C", confB], { label: "conntrackd-b" });
      await waitStats(b, confB);
      await sleep(500);
      const b0 = procFigures(procB.pid);
      const procA = a.spawn(["conntrackd", "-C", confA], { label: "conntrackd-a" });
      await waitInternal(a, confA, n);
      const rssA = procFigures(procA.pid).rssMb;
      // Inside B: clock, resync request, poll until the external cache holds
      // N — or has not grown for 3 s, when the time of its last growth counts.
      const script = `t0=$(date +%s%N); conntrackd -C ${confB} -n; p=-1; tl=$t0; ` +
        `while :; do now=$(date +%s%N); ` +
        `c=$(conntrackd -C ${confB} -s | awk '/cache external/{e=1} e&&/current active/{print $4; exit}'); ` +
        `c=\${c:-0}; [ "$c" -ne "$p" ] && { p=$c; tl=$now; echo "s $(( (now-t0)/1000 )) $c"; }; ` +
        `[ "$c" -ge ${n} ] && break; ` +
        `[ $(( (now-tl)/1000000 )) -gt 3000 ] && break; done; ` +
        `echo $(( (tl-t0)/1000 )) $c`;
      const run = await b.run(["sh", "-c", script], { timeoutMs: 300_000 });
      const out = run.stdout.trim().split("\n");
      const [us, reached] = out.at(-1)!.trim().split(/\s+/).map(Number);
      const curve = out.filter((l) => l.startsWith("s ")).map((l): [number, number] => {
        const [, t, c] = l.split(" ").map(Number);
        return [t / 1e6, c];
      });
      await sleep(1000);
      const b1 = procFigures(procB.pid);
      return {
        n,
        seconds: us / 1e6,
        perSecond: n / (us / 1e6),
        reached,
        rssPerStateB: (b1.rssMb - b0.rssMb) * 1024 * 1024 / n,
        rssMbB: b1.rssMb,
        rssPerStateA: (rssA - b0.rssMb) * 1024 * 1024 / n,
        curve,
        ...(restoreLimit !== undefined
          ? { note: `host nf_conntrack_max raised from ${restoreLimit} for this run` }
          : {}),
      };
    });
  } finally {
    if (restoreLimit !== undefined) {
      await host(["sysctl", "-q", "-w", `net.netfilter.nf_conntrack_max=${restoreLimit}`]);
    }
  }
}

async function stats(ns: Ns, confPath: string): Promise<string | undefined> {
  const run = await ns.run(["conntrackd", "-C", confPath, "-s"]);
  return run.success ? run.stdout : undefined;
}

async function waitStats(ns: Ns, confPath: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await stats(ns, confPath)) return;
    await sleep(50);
  }
  throw new Error(`conntrackd in ${ns.label} did not answer`);
}

/** Waits until conntrackd's internal cache holds `n` entries (its start-up dump). */
async function waitInternal(ns: Ns, confPath: string, n: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const text = await stats(ns, confPath);
    const m = text?.match(/cache internal:\s*current active connections:\s*(\d+)/);
    if (m && Number(m[1]) >= n) return;
    await sleep(100);
  }
  throw new Error(`conntrackd in ${ns.label}: internal cache short of ${n}`);
}

/** conntrackd's live A→B figure from the issue-6 benchmark's run. */
export async function measureConntrackdLive(n: number): Promise<SyncRun> {
  return (await syncRuns(n, ["conntrackd"]))[0];
}

if (import.meta.main) {
  const n = Number(Deno.args[1] ?? 100_000);
  if (Deno.args[0] === "live") console.log(await measureConntrackdLive(n));
  else console.log(await measureConntrackdResync(n, { raiseLimit: Deno.args[2] === "raise" }));
}
