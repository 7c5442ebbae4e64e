/**
 * pfsync codec benchmark: records per second encoded and decoded, for full
 * 224-byte states (INS/UPD/bulk) and 88-byte compressed updates, in packets
 * sized for a 1500-byte sync link (6 records each). Run alone with
 * `deno run -A bench/pfsync/codec.ts`; `runPfsyncCodecBench()` returns the
 * Markdown section for the combined report.
 */
import {
  decodeFrame,
  encodeFrame,
  maxRecordsForMtu,
  PFSYNC_ACT_UPD,
  PFSYNC_ACT_UPD_C,
  type PfsyncMessage,
} from "../../lib/pfsync/mod.ts";
import type { CompressedUpdate } from "../../lib/pfsync/records.ts";
import type { State } from "../../lib/state/types.ts";

const PER_PACKET = maxRecordsForMtu(1500);

function sampleState(i: number, v6: boolean): State {
  const host = (n: number) =>
    v6
      ? `2001:db8::${(n & 0xffff).toString(16)}`
      : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const peer = (seq: number) => ({
    seqlo: seq,
    seqhi: seq + 65535,
    seqdiff: 0,
    maxWin: 65535,
    mss: 1460,
    state: 4,
    wscale: 0x87,
  });
  return {
    id: (0x4a5b6c7dn << 32n) + BigInt(i),
    creatorId: 0x0badcafe,
    ifname: "self",
    lan: { addr: host(i), port: 1024 + (i % 60000) },
    gwy: { addr: host(i), port: 1024 + (i % 60000) },
    ext: { addr: v6 ? "2001:db8:1::7" : "198.51.100.7", port: 443 },
    src: peer(i * 7919),
    dst: peer(i * 104729),
    rtAddr: v6 ? "::" : "0.0.0.0",
    rule: 0xffffffff,
    anchor: 0xffffffff,
    natRule: 0,
    creation: i % 3600,
    expire: 0,
    packets: [i, i >> 1],
    bytes: [i * 100, i * 50],
    af: v6 ? 28 : 2,
    proto: 6,
    direction: 2,
    log: 0,
    allowOpts: 0,
    timeout: 2,
    syncFlags: 0,
    updates: 0,
  };
}

export interface CodecResult {
  readonly name: string;
  readonly encodePerSecond: number;
  readonly decodePerSecond: number;
}

function measure(name: string, messages: PfsyncMessage[], minMs = 1000): CodecResult {
  const records = messages.reduce((n, m) => n + m.records.length, 0);
  // Warm up so the JIT has seen both paths.
  const packets = messages.map((m) => encodeFrame(m));
  for (const p of packets) decodeFrame(p);
  let encoded = 0;
  let start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (const m of messages) encodeFrame(m);
    encoded += records;
    elapsed = performance.now() - start;
  }
  const encodePerSecond = encoded / (elapsed / 1000);
  let decoded = 0;
  start = performance.now();
  elapsed = 0;
  while (elapsed < minMs) {
    for (const p of packets) decodeFrame(p);
    decoded += records;
    elapsed = performance.now() - start;
  }
  return { name, encodePerSecond, decodePerSecond: decoded / (elapsed / 1000) };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Encode/decode records per second for UPD IPv4, UPD IPv6 and UPD_C, in that order. */
export function measureCodec(minMs = 1000): CodecResult[] {
  const n = 6000;
  const v4 = Array.from({ length: n }, (_, i) => sampleState(i, false));
  const v6 = Array.from({ length: n }, (_, i) => sampleState(i, true));
  const compressed: CompressedUpdate[] = v4.map((s) => ({
    id: s.id,
    creatorId: s.creatorId,
    src: s.src,
    dst: s.dst,
    expire: 0,
    timeout: s.timeout,
    updates: 0,
  }));
  return [
    measure(
      "UPD, IPv4 (224-byte records)",
      chunk(v4, PER_PACKET).map((records) => ({ action: PFSYNC_ACT_UPD, records })),
      minMs,
    ),
    measure(
      "UPD, IPv6 (224-byte records)",
      chunk(v6, PER_PACKET).map((records) => ({ action: PFSYNC_ACT_UPD, records })),
      minMs,
    ),
    measure(
      "UPD_C (88-byte records)",
      chunk(compressed, PER_PACKET).map((records) => ({ action: PFSYNC_ACT_UPD_C, records })),
      minMs,
    ),
  ];
}

export function runPfsyncCodecBench(minMs = 1000): Promise<string> {
  const results = measureCodec(minMs);
  const fmt = (v: number) => Math.round(v).toLocaleString("en-US");
  const target = 1_000_000;
  const lines = [
    "## pfsync codec",
    "",
    `Records per second through \`encodeFrame\`/\`decodeFrame\`, ${PER_PACKET} records a packet (1500-byte sync MTU), ` +
    `State objects in and out. Target: at least ${fmt(target)} records/s each way.`,
    "",
    "| record | encode records/s | decode records/s | target met |",
    "|---|---:|---:|---|",
    ...results.map((r) =>
      `| ${r.name} | ${fmt(r.encodePerSecond)} | ${fmt(r.decodePerSecond)} | ${
        r.encodePerSecond >= target && r.decodePerSecond >= target ? "yes" : "no"
      } |`
    ),
    "",
  ];
  return Promise.resolve(lines.join("\n"));
}

if (import.meta.main) {
  console.log(await runPfsyncCodecBench());
}
