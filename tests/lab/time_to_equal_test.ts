/**
 * timeToEqual() (tests/lab/fixtures/faults_common.ts), the lab's heal-time
 * meter, against two scripted control servers instead of agents: it must
 * answer from cheap `states.digest` polls, confirm a match with one full
 * diff, hand onDiff full diffs no more often than every 250 ms, fall back to
 * full diffs when digests agree on different tables, and time out with -1.
 * No namespaces and no root: what is tested is the polling logic; the lab
 * tests exercise it against real agents.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { startControlServer } from "../../lib/control/server.ts";
import type { StateView } from "../../lib/control/types.ts";
import type { StatesDigestResult } from "../../lib/control/protocol.ts";
import {
  covered,
  FULL_DIFF_EVERY_MS,
  type Pair,
  type TableDiff,
  timeToEqual,
} from "./fixtures/faults_common.ts";

/** A scripted agent: its states, and how it answers `states.digest`. */
interface Script {
  states: StateView[];
  /** Overrides the honest digest (to fake a collision). */
  digest?: string;
  calls: { states: number; digest: number };
}

function view(n: number, seqlo = 1): StateView {
  return {
    id: n.toString(16).padStart(16, "0"),
    creatorid: "00000001",
    ifname: "self",
    proto: "tcp",
    src: `192.0.2.${n}:1000`,
    dst: "198.51.100.7:80",
    direction: "out",
    srcPeer: { state: "ESTABLISHED" },
    dstPeer: { state: "ESTABLISHED" },
    age: 0,
    expire: 0,
    packets: [0, 0],
    bytes: [0, 0],
    origin: "local",
    peers: { src: { seqlo }, dst: { seqlo: 2 } },
  } as StateView;
}

/** An honest digest of the compared fields (a string is enough for a fake). */
function honest(states: StateView[]): StatesDigestResult {
  const parts = states.map((s) =>
    JSON.stringify([s.id, s.creatorid, s.proto, s.src, s.dst, (s as { peers?: unknown }).peers])
  ).sort();
  return { count: states.length, digest: parts.join("|") };
}

async function withPair(
  body: (pair: Pair, a: Script, b: Script) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tte-" });
  const scripts: Script[] = [];
  const servers = [];
  try {
    for (const name of ["a", "b"]) {
      const script: Script = { states: [], calls: { states: 0, digest: 0 } };
      scripts.push(script);
      servers.push(
        await startControlServer({
          path: `${dir}/${name}.sock`,
          handlers: {
            states: () => {
              script.calls.states++;
              return Promise.resolve({ states: structuredClone(script.states) });
            },
            "states.digest": () => {
              script.calls.digest++;
              const d = honest(script.states);
              return Promise.resolve(script.digest ? { ...d, digest: script.digest } : d);
            },
          },
        }),
      );
    }
    const pair = {
      a: { control: `${dir}/a.sock` },
      b: { control: `${dir}/b.sock` },
    } as unknown as Pair;
    await body(pair, scripts[0], scripts[1]);
  } finally {
    for (const server of servers) await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const after = (ms: number, f: () => void) => setTimeout(f, ms);

Deno.test("timeToEqual() polls digests and confirms the first match with one full diff", async () => {
  await withPair(async (pair, a, b) => {
    a.states = [view(1), view(2), view(3)];
    b.states = [view(1), view(2, 99)];
    const timer = after(300, () => b.states = [view(3), view(2), view(1)]);
    const t = performance.now();
    const r = await timeToEqual(pair, 5_000);
    clearTimeout(timer);
    // Not before B changed; the upper bound is loose for a loaded machine.
    assert(r.ms >= 300 && r.ms < 900, `equal at ${r.ms.toFixed(0)} ms`);
    assertEquals(r.last.total, 0);
    assert(performance.now() - t >= r.ms);
    assert(a.calls.digest >= 10, `digest polls: ${a.calls.digest}`);
    // No onDiff and `equal`: only the confirmation (the safety net waits a second).
    assertEquals(a.calls.states, 1);
    assertEquals(b.calls.states, 1);
  });
});

Deno.test("timeToEqual() gives onDiff full diffs at most every 250 ms while polling digests", async () => {
  await withPair(async (pair, a, b) => {
    a.states = [view(1), view(2), view(3)];
    b.states = [view(1)];
    const timer = after(900, () => b.states = [...a.states]);
    const seen: { t: number; d: TableDiff }[] = [];
    const t0 = performance.now();
    const r = await timeToEqual(pair, 5_000, (d) => seen.push({ t: performance.now() - t0, d }));
    clearTimeout(timer);
    assert(r.ms >= 900, `equal at ${r.ms.toFixed(0)} ms`);
    // Samples at ~0, 250, 500, 750 ms (fewer on a loaded machine), then the confirmation.
    assert(seen.length >= 3, `${seen.length} diffs`);
    assert(seen.length <= Math.ceil(r.ms / FULL_DIFF_EVERY_MS) + 2, `${seen.length} diffs`);
    assertEquals(seen[0].d.missing, 2);
    for (let i = 1; i < seen.length - 1; i++) {
      assert(seen[i].t - seen[i - 1].t >= FULL_DIFF_EVERY_MS - 5, `gap ${i}`);
    }
    assertEquals(seen.at(-1)!.d.total, 0);
    assert(a.calls.digest > 3 * seen.length, `${a.calls.digest} digest polls`);
  });
});

Deno.test("timeToEqual() falls back to full diffs when digests agree on different tables", async () => {
  await withPair(async (pair, a, b) => {
    a.states = [view(1), view(2)];
    b.states = [view(1), view(2, 7)];
    a.digest = b.digest = "collision";
    const timer = after(400, () => b.states = [view(1), view(2)]);
    const r = await timeToEqual(pair, 5_000);
    clearTimeout(timer);
    assert(r.ms >= 400, `equal at ${r.ms.toFixed(0)} ms, not at the first match`);
    assertEquals(r.last.total, 0);
    // Full diffs every 100 ms after the unconfirmed match, digests no longer asked.
    assert(b.calls.states >= 3, `${b.calls.states} full listings`);
    assert(a.calls.digest <= 3, `${a.calls.digest} digest polls`);
  });
});

Deno.test("timeToEqual() answers -1 and the last full diff after the timeout", async () => {
  await withPair(async (pair, a, b) => {
    a.states = [view(1), view(2)];
    b.states = [view(1), view(3)];
    const r = await timeToEqual(pair, 300);
    assertEquals(r.ms, -1);
    assertEquals([r.last.missing, r.last.extra, r.last.total], [1, 1, 2]);
  });
});

Deno.test("timeToEqual(covered) ends on a full diff although the digests differ", async () => {
  await withPair(async (pair, a, b) => {
    a.states = [view(1)];
    b.states = [view(1), view(2)];
    const r = await timeToEqual(pair, 2_000, undefined, covered);
    // The first full diff (at once) decides: no digest ever matches here.
    assert(r.ms >= 0 && r.ms < 1_000, `covered at ${r.ms.toFixed(0)} ms`);
    assertEquals(a.calls.states, 1);
    assertEquals([r.last.missing, r.last.stale, r.last.extra], [0, 0, 1]);
  });
});
