/**
 * StateTable benchmark: inserts per second and resident bytes per state at
 * 1,000,000 states (target ≤ 300; conntrackd holds about 500). Resident
 * memory is the RSS growth measured around the fill, after a GC when the
 * runtime exposes one (`--v8-flags=--expose-gc`). Run alone with
 * `deno run -A --v8-flags=--expose-gc bench/pfsync/table.ts [count]`.
 */
import { StateTable } from "../../lib/state/mod.ts";
import { establishedTcpState } from "../../lib/state/synthetic.ts";
import type { State } from "../../lib/state/types.ts";

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function stateFor(i: number, template: State): State {
  return {
    ...template,
    id: (0x4a5b6c7dn << 32n) + BigInt(i),
    lan: { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 50000) },
    gwy: { addr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 50000) },
  };
}

const TEMPLATE: State = establishedTcpState({
  id: 0n,
  creatorId: 0x0badcafe,
  lan: { addr: "10.0.0.1", port: 1 },
  ext: { addr: "198.51.100.7", port: 443 },
});

export interface TableBenchResult {
  readonly count: number;
  readonly insertsPerSecond: number;
  readonly lookupsPerSecond: number;
  readonly residentBytesPerState: number;
  readonly accountedBytesPerState: number;
}

export function measureStateTable(count = 1_000_000): TableBenchResult {
  gc();
  const rssBefore = Deno.memoryUsage().rss;
  const table = new StateTable();
  let start = performance.now();
  for (let i = 0; i < count; i++) table.insert(stateFor(i, TEMPLATE), "local");
  const insertMs = performance.now() - start;
  gc();
  const rssAfter = Deno.memoryUsage().rss;
  start = performance.now();
  let found = 0;
  for (let i = 0; i < count; i += 7) {
    if (table.has({ id: (0x4a5b6c7dn << 32n) + BigInt(i), creatorId: 0x0badcafe })) found++;
  }
  const lookupMs = performance.now() - start;
  if (found !== Math.ceil(count / 7)) throw new Error(`lookup found ${found}`);
  return {
    count: table.size,
    insertsPerSecond: count / (insertMs / 1000),
    lookupsPerSecond: found / (lookupMs / 1000),
    residentBytesPerState: (rssAfter - rssBefore) / count,
    accountedBytesPerState: table.byteLength / count,
  };
}

export function runStateTableBench(count = 1_000_000): Promise<string> {
  const r = measureStateTable(count);
  const fmt = (v: number) => Math.round(v).toLocaleString("en-US");
  return Promise.resolve([
    "## State table",
    "",
    `${
      fmt(r.count)
    } IPv4 TCP states in one StateTable (224-byte record slabs + two Int32Array hash indexes).`,
    "",
    "| measure | value | target |",
    "|---|---:|---|",
    `| inserts/s | ${fmt(r.insertsPerSecond)} | |`,
    `| lookups/s by (id, creatorid) | ${fmt(r.lookupsPerSecond)} | |`,
    `| resident bytes per state (RSS growth) | ${fmt(r.residentBytesPerState)} | ≤ 300 |`,
    `| bytes per state held by the table | ${fmt(r.accountedBytesPerState)} | |`,
    "",
  ].join("\n"));
}

if (import.meta.main) {
  console.log(await runStateTableBench(Number(Deno.args[0] ?? 1_000_000)));
}
