/**
 * The soak run's load, run inside firewall A's namespace: fills A's kernel
 * conntrack table with flows 0…N-1 (flows.ts), waits for the go file, then
 * every period updates U random live flows (new mark, timeout back to full),
 * deletes the R oldest and creates R new ones, so the table keeps N entries
 * while 2R + U of them change each period. Everything goes through our own
 * ctnetlink client (lib/netlink codecs over a lib/sys netlink socket), many
 * requests per datagram; the agent on A sees the kernel's events like those
 * of any other program.
 *
 *   deno run -A bench/soak/churn.ts --states N --updates U --replace R \
 *     --period-ms 1000 --go FILE --stop FILE
 *
 * Prints JSON lines: {"event":"filled",…}, {"event":"round",…} every tenth
 * round and any round with failures, and {"event":"summary",…} after the
 * stop file appears.
 */
import { NETLINK_NETFILTER } from "../../lib/netlink/ct_constants.ts";
import { errnoText } from "../../lib/state/conntrack/apply.ts";
import { RequestChannel } from "../../lib/state/conntrack/channel.ts";
import { NetlinkSocket } from "../../lib/sys/netlink_socket.ts";
import { createMessage, deleteMessage, updateMessage } from "./flows.ts";

/** Requests per datagram (≈150 bytes each, far inside the socket buffers). */
const BATCH = 128;

function arg(name: string, fallback?: string): string {
  const i = Deno.args.indexOf(name);
  if (i >= 0 && i + 1 < Deno.args.length) return Deno.args[i + 1];
  if (fallback === undefined) throw new Error(`churn: ${name} is required`);
  return fallback;
}

const states = Number(arg("--states"));
const updates = Number(arg("--updates", "1000"));
const replace = Number(arg("--replace", "500"));
const periodMs = Number(arg("--period-ms", "1000"));
const goFile = arg("--go");
const stopFile = arg("--stop");

const channel = new RequestChannel(NetlinkSocket.open(NETLINK_NETFILTER, 0), 10_000);
/** "create ENOENT" → count. */
const failures: Record<string, number> = {};
const done = { created: 0, updated: 0, deleted: 0 };

const print = (value: Record<string, unknown>) => console.log(JSON.stringify(value));

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A small seeded generator (mulberry32), so two runs churn the same flows. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends `flows` through `build` in datagrams of BATCH requests; returns how many failed. */
function run(
  op: "create" | "update" | "delete",
  flows: readonly number[],
  build: (i: number, seq: number, last: boolean) => Uint8Array,
): number {
  let failed = 0;
  for (let at = 0; at < flows.length; at += BATCH) {
    const slice = flows.slice(at, at + BATCH);
    const seqs = slice.map(() => channel.nextSeq());
    const parts = slice.map((i, k) => build(i, seqs[k], k === slice.length - 1));
    const errors = channel.batch(parts, seqs);
    for (const errno of errors.values()) {
      const key = `${op} ${errnoText(errno)}`;
      failures[key] = (failures[key] ?? 0) + 1;
      failed++;
    }
    const ok = slice.length - errors.size;
    if (op === "create") done.created += ok;
    else if (op === "update") done.updated += ok;
    else done.deleted += ok;
  }
  return failed;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, k) => from + k);

// Fill.
const fillStart = performance.now();
const fillFailed = run("create", range(0, states), createMessage);
print({
  event: "filled",
  count: states - fillFailed,
  failed: fillFailed,
  ms: Math.round(performance.now() - fillStart),
  at: Date.now(),
});

while (!exists(goFile)) await new Promise((r) => setTimeout(r, 50));

// Churn: the live flows are always the window [lo, hi).
let lo = 0, hi = states;
let rounds = 0, late = 0, maxMs = 0;
const pick = random(0x50a6);
const churnStart = performance.now();
while (!exists(stopFile)) {
  const t0 = performance.now();
  rounds++;
  const mark = rounds;
  const chosen = Array.from({ length: updates }, () => lo + Math.floor(pick() * (hi - lo)));
  let failed = run("update", chosen, (i, seq, last) => updateMessage(i, mark, seq, last));
  failed += run("delete", range(lo, replace), deleteMessage);
  lo += replace;
  failed += run("create", range(hi, replace), createMessage);
  hi += replace;
  const ms = performance.now() - t0;
  maxMs = Math.max(maxMs, ms);
  if (ms > periodMs) late++;
  if (rounds % 10 === 0 || failed > 0) {
    print({ event: "round", round: rounds, ms: Math.round(ms), failed, lo, hi, at: Date.now() });
  }
  const rest = churnStart + rounds * periodMs - performance.now();
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
}

print({
  event: "summary",
  rounds,
  seconds: (performance.now() - churnStart) / 1000,
  ...done,
  failures,
  late,
  maxRoundMs: Math.round(maxMs),
  live: [lo, hi],
  updatesPerRound: updates,
  replacePerRound: replace,
});
channel.port.close();
