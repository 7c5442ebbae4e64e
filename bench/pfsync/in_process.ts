/**
 * In-process sync benchmark: two PfsyncEngines joined by an in-memory wire
 * (no sockets, no kernel), so the figures are the engine's own ceiling —
 * encode, decode, admission and table work on both ends in one thread.
 * Live: states inserted on A reach B's table as INS packets. Bulk: B asks
 * and A streams its table (first-batch delay 0). Output pacing is off.
 * Part of `runPfsyncSyncBench` (sync.ts).
 */
import { PfsyncEngine } from "../../lib/pfsync/mod.ts";
import { StateTable } from "../../lib/state/mod.ts";
import { establishedPeer, establishedTcpState } from "../../lib/state/synthetic.ts";
import type { State } from "../../lib/state/types.ts";

interface Node {
  readonly table: StateTable;
  readonly engine: PfsyncEngine;
}

function pair(clock: { ms: number }) {
  const wire: { from: number; bytes: Uint8Array }[] = [];
  const nodes: Node[] = [];
  for (let i = 0; i < 2; i++) {
    const table = new StateTable({ now: () => clock.ms });
    const engine = new PfsyncEngine(table, {
      send: (bytes) => void wire.push({ from: i, bytes }),
      now: () => clock.ms,
      log: () => {},
      holdPreemption: () => {},
    }, {
      syncif: "sync0",
      hostId: 0x0a000001 + i,
      mtu: 1500,
      bulk: { firstDelayMs: 0, tickMs: 0, batchPackets: 1000 },
      pacing: { packetsPerSecond: 0 }, // the engine's ceiling, not the wire's
    });
    nodes.push({ table, engine });
  }
  const pump = () => {
    while (wire.length) {
      const { from, bytes } = wire.shift()!;
      nodes[1 - from].engine.receive(
        { ttl: 255, onSyncInterface: true, source: `10.0.0.${from + 1}` },
        bytes,
      );
    }
  };
  return { nodes, pump };
}

function makeState(i: number, creatorId: number): State {
  const addr = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const peer = establishedPeer(i);
  return establishedTcpState({
    id: (0x5a000000n << 32n) + BigInt(i),
    creatorId,
    lan: { addr, port: 1024 + (i % 50000) },
    ext: { addr: "198.51.100.7", port: 443 },
    src: peer,
    dst: peer,
  });
}

export interface SyncBenchResult {
  readonly count: number;
  readonly liveStatesPerSecond: number;
  readonly bulkMs: number;
  readonly bulkStatesPerSecond: number;
  /** Process CPU µs per state (both ends together), a figure other load on the machine spares. */
  readonly liveCpuUs: number;
  readonly bulkCpuUs: number;
}

/** This process's CPU seconds (user + system) from /proc, or NaN elsewhere. */
function cpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export function measureSync(count: number): SyncBenchResult {
  const clock = { ms: 1_700_000_000_000 };
  const { nodes: [a, b], pump } = pair(clock);
  a.engine.start();
  b.engine.start();
  pump();
  clock.ms += 70_000; // both give up waiting for each other (no BUS while waiting)
  for (let t = 0; t < 14; t++) {
    clock.ms += 5_000;
    a.engine.tick();
    b.engine.tick();
    pump();
  }
  let start = performance.now();
  let cpu = cpuSeconds();
  for (let i = 0; i < count; i++) {
    a.table.insert(makeState(i, 0x0a000001), "local");
    if (i % 600 === 599) pump();
  }
  a.engine.tick(clock.ms += 1000);
  pump();
  const liveMs = performance.now() - start;
  const liveCpu = cpuSeconds() - cpu;
  if (b.table.size !== count) throw new Error(`live sync delivered ${b.table.size} of ${count}`);

  // A fresh B' asks A for everything.
  const fresh = pair(clock);
  const [a2, b2] = fresh.nodes;
  for (const state of a.table.states()) a2.table.insert(state, "local");
  start = performance.now();
  cpu = cpuSeconds();
  b2.engine.start();
  fresh.pump();
  while (b2.engine.status().bulk.pending) {
    a2.engine.tick(clock.ms += 1);
    fresh.pump();
  }
  const bulkMs = performance.now() - start;
  const bulkCpu = cpuSeconds() - cpu;
  if (b2.table.size !== count) throw new Error(`bulk delivered ${b2.table.size} of ${count}`);
  return {
    count,
    liveStatesPerSecond: count / (liveMs / 1000),
    bulkMs,
    bulkStatesPerSecond: count / (bulkMs / 1000),
    liveCpuUs: liveCpu * 1e6 / count,
    bulkCpuUs: bulkCpu * 1e6 / count,
  };
}
