/**
 * The user-space half of the conntrack sync path, without the kernel:
 *
 *   A  kernel NEW events (bytes as Linux 6.18 sends them for `conntrack -I`)
 *      → ConntrackProvider.drainEvents → StateTable → PfsyncEngine → packets
 *   B  those packets → PfsyncEngine.receive → StateTable → ConntrackProvider.apply
 *      → create requests (a fake port acknowledges them) → own events dropped
 *
 * It prints µs of CPU per state on each side — the JavaScript cost the real
 * run (sync_rate.ts) adds to the kernel's — so a change to a decoder, the
 * mirror or the apply path can be judged in seconds on a busy machine.
 *
 *   deno run -A [--v8-flags=--expose-gc] bench/conntrack/pipeline.ts [N] [REPS] [--json]
 *
 * With --expose-gc it also reports the live JS heap each side holds for its
 * N states (garbage collected first).
 */
import { connectProvider } from "../../lib/state/provider.ts";
import { StateTable } from "../../lib/state/table.ts";
import { ConntrackProvider } from "../../lib/state/conntrack/provider.ts";
import type { NetlinkPort } from "../../lib/state/conntrack/channel.ts";
import { PfsyncEngine } from "../../lib/pfsync/engine.ts";
import { fromHex } from "../../lib/bytes/mod.ts";

/** A NEW event for 10.1.0.1:1024 → 10.2.0.1:80 ESTABLISHED, as the kernel sent it (232 bytes). */
const EVENT_HEX = "e80000000001000600000000d43b0000020000003400018014000180080001000a010001" +
  "080002000a0200011c0002800500010006000000060002000400000006000300005000003400028014" +
  "000180080001000a020001080002000a0100011c000280050001000600000006000200005000000600" +
  "03000400000008000c0074d3799b080003000000000e0800070000000258300004802c000180050001" +
  "000300000005000200000000000500030000000000060004000a000000060005000a0000001c001880" +
  "0800010000000000080002000000000008000300000000000800080000000000";

/** Offsets in the template of what varies per flow. */
const ORIG_SRC = 32; // CTA_IP_V4_SRC payload in the original tuple
const ORIG_SPORT = 60; // CTA_PROTO_SRC_PORT payload
const REPLY_DST = 92; // CTA_IP_V4_DST payload in the reply tuple
const REPLY_DPORT = 120; // CTA_PROTO_DST_PORT payload
const CTA_ID_AT = 128;

/** N distinct events (10.1/16 sources, like sync_rate.ts's restore file), pid = `pid`. */
export function eventDatagrams(n: number, pid = 0x3bd4): Uint8Array[] {
  const template = fromHex(EVENT_HEX);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const d = template.slice();
    const v = new DataView(d.buffer);
    v.setUint32(12, pid, true);
    d[ORIG_SRC + 2] = d[REPLY_DST + 2] = (i >> 8) & 255;
    d[ORIG_SRC + 3] = d[REPLY_DST + 3] = i & 255;
    v.setUint16(ORIG_SPORT, 1024 + (i >> 16));
    v.setUint16(REPLY_DPORT, 1024 + (i >> 16));
    v.setUint32(CTA_ID_AT, 0x10000 + i);
    out.push(d);
  }
  return out;
}

/** A port whose "kernel" answers dumps with DONE and acknowledges (or silently takes) requests. */
class QuietPort implements NetlinkPort {
  readonly fd: number;
  readonly portId: number;
  queue: Uint8Array[] = [];
  head = 0;
  sent = 0;
  constructor(fd: number, portId: number) {
    this.fd = fd;
    this.portId = portId;
  }
  send(bytes: Uint8Array): void {
    this.sent++;
    // Answer the last message of the datagram: an ACK when it asked for one, DONE for a dump.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    let last = 0;
    while (at < bytes.length) {
      last = at;
      at += (view.getUint32(at, true) + 3) & ~3;
    }
    const flags = view.getUint16(last + 6, true);
    const seq = view.getUint32(last + 8, true);
    const reply = new Uint8Array(36);
    const r = new DataView(reply.buffer);
    r.setUint32(0, (flags & 0x300) === 0x300 ? 20 : 36, true);
    r.setUint16(4, (flags & 0x300) === 0x300 ? 3 : 2, true);
    r.setUint32(8, seq, true);
    r.setUint32(12, this.portId, true);
    if ((flags & 0x300) === 0x300 || (flags & 4) !== 0) {
      this.queue.push((flags & 0x300) === 0x300 ? reply.subarray(0, 20) : reply);
    }
  }
  receive(): Uint8Array | undefined {
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
      return undefined;
    }
    return this.queue[this.head++];
  }
  setReceiveBuffer(bytes: number): number {
    return bytes * 2;
  }
  close(): void {}
}

interface Side {
  table: StateTable;
  provider: ConntrackProvider;
  engine: PfsyncEngine;
  events: QuietPort;
  requests: QuietPort;
  packets: Uint8Array[];
}

async function side(hostId: number): Promise<Side> {
  const table = new StateTable();
  const ports: QuietPort[] = [];
  const provider = new ConntrackProvider({
    creatorId: hostId,
    epoch: 7,
    reactor: { add() {}, remove: () => true },
    sweepIntervalMs: 0,
    openPort: () => {
      const port = new QuietPort(100 + ports.length, 5000 + 10 * hostId + ports.length);
      ports.push(port);
      return port;
    },
    sysctl: { read: () => "1", write() {} },
  });
  await connectProvider(provider, table, (message) => {
    throw new Error(message);
  });
  const packets: Uint8Array[] = [];
  const engine = new PfsyncEngine(table, {
    send: (bytes) => {
      packets.push(bytes.slice());
    },
    now: () => performance.now(),
    log() {},
    holdPreemption() {},
  }, { syncif: "sync0", hostId, pacing: { packetsPerSecond: 0, burst: 1 } });
  engine.start();
  packets.length = 0;
  return { table, provider, engine, events: ports[0], requests: ports[1], packets };
}

const cpuMicros = (): number => {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
};

/** V8's gc() when run with --v8-flags=--expose-gc, for memory figures that exclude garbage. */
const gc = (globalThis as { gc?: () => void }).gc;

function liveHeapMb(): number {
  if (!gc) return NaN;
  gc();
  return Deno.memoryUsage().heapUsed / 1e6;
}

export interface PipelineFigures {
  readonly n: number;
  /** Wall-clock µs per state on A (events → packets) and on B (packets → create requests). */
  readonly aMicros: number;
  readonly bMicros: number;
  /** Process CPU µs per state (user + system, 10 ms ticks). */
  readonly aCpuMicros: number;
  readonly bCpuMicros: number;
  readonly packets: number;
  readonly created: number;
  /**
   * Live JS heap each side holds for its N states (MB; NaN without
   * --expose-gc). Typed-array storage — the state table's slab, the
   * mirror's columns (48 bytes a slot) — lives outside it and is not counted
   * (the release of array buffers lags, so `external` is not a usable
   * figure). A's includes the packets' JS objects.
   */
  readonly aHeapMb: number;
  readonly bHeapMb: number;
}

export async function pipelineRun(n: number): Promise<PipelineFigures> {
  const a = await side(1);
  const b = await side(2);
  const heap0 = liveHeapMb();
  const datagrams = eventDatagrams(n);
  a.events.queue = datagrams;
  let t0 = performance.now();
  let c0 = cpuMicros();
  a.provider.drainEvents();
  await Promise.resolve();
  a.engine.sender.flush();
  a.engine.tick();
  const aMicros = (performance.now() - t0) * 1000 / n;
  const aCpuMicros = (cpuMicros() - c0) / n;
  const packets = a.packets.splice(0);
  datagrams.length = 0; // the input is not A's to hold
  const heap1 = liveHeapMb();
  t0 = performance.now();
  c0 = cpuMicros();
  for (const packet of packets) {
    b.engine.receive({ ttl: 255, onSyncInterface: true, source: "10.99.0.1" }, packet);
    await Promise.resolve();
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  const bMicros = (performance.now() - t0) * 1000 / n;
  const bCpuMicros = (cpuMicros() - c0) / n;
  const created = b.provider.applier.counters.created;
  // The packets stay referenced until here, so both heap figures include them alike.
  const heap2 = liveHeapMb();
  const packetCount = packets.length;
  packets.length = 0;
  await a.provider.close();
  await b.provider.close();
  return {
    n,
    aMicros,
    bMicros,
    aCpuMicros,
    bCpuMicros,
    packets: packetCount,
    created,
    aHeapMb: heap1 - heap0,
    bHeapMb: heap2 - heap1,
  };
}

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const [nArg, repsArg] = Deno.args.filter((a) => a !== "--json");
  const n = Number(nArg ?? 100_000);
  const reps = Number(repsArg ?? 3);
  for (let i = 0; i < reps; i++) {
    const f = await pipelineRun(n);
    if (json) {
      console.log(JSON.stringify(f));
      continue;
    }
    console.log(
      `N ${f.n}: A ${f.aMicros.toFixed(2)} µs/state (cpu ${f.aCpuMicros.toFixed(2)}), ` +
        `B ${f.bMicros.toFixed(2)} µs/state (cpu ${f.bCpuMicros.toFixed(2)}), ` +
        `${f.packets} packets, ${f.created} created` +
        (gc ? `; live JS heap A ${f.aHeapMb.toFixed(1)} MB, B ${f.bHeapMb.toFixed(1)} MB` : ""),
    );
  }
}
