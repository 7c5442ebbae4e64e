/**
 * The TypeScript side of the socket benchmark: the same loops as loop.c,
 * through pfsyncd's own RawIPv4Socket and Reactor.
 *
 *   peer.ts send DEV DST SIZE MS     send as fast as possible for MS ms
 *   peer.ts recv DEV GROUP MS        receive for MS ms; report rate and latency
 *
 * Latency uses the send time stamped into the payload (CLOCK_REALTIME ns,
 * little endian) against clock_gettime here, the same clock as the C side.
 */
import { parseIPv4 } from "../../lib/net/address.ts";
import { SysError } from "../../lib/sys/errors.ts";
import { Reactor } from "../../lib/sys/reactor.ts";
import { RawIPv4Socket } from "../../lib/sys/socket.ts";

const PROTOCOL = 240;
const CLOCK_REALTIME = 0;
/** Packets left out of the latency percentiles, as in loop.c. */
const WARMUP = 200;

// Benchmark-only: the agent needs no wall clock in ns, so this stays out of lib/sys/libc.ts.
const clock = Deno.dlopen(Deno.build.os === "linux" ? "libc.so.6" : "libc.so.7", {
  // int clock_gettime(clockid_t clock, struct timespec *ts);
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
});
const timespec = new BigInt64Array(2);
const timespecBytes = new Uint8Array(timespec.buffer);

function realtimeNs(): bigint {
  clock.symbols.clock_gettime(CLOCK_REALTIME, timespecBytes);
  return timespec[0] * 1_000_000_000n + timespec[1];
}

function open(device: string): RawIPv4Socket {
  return RawIPv4Socket.open({ protocol: PROTOCOL, device });
}

function send(device: string, destination: string, size: number, ms: number): void {
  const socket = open(device);
  const address = parseIPv4(destination)!;
  const payload = new Uint8Array(size);
  const stamp = new DataView(payload.buffer);
  let sent = 0;
  let busy = 0;
  const start = performance.now();
  for (;;) {
    if ((sent & 255) === 0 && performance.now() - start >= ms) break;
    stamp.setBigInt64(0, realtimeNs(), true);
    try {
      socket.sendTo(address, payload);
      sent++;
    } catch (error) {
      if (!(error instanceof SysError) || !["EAGAIN", "ENOBUFS"].includes(error.code)) throw error;
      busy++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  socket.close();
  console.log(JSON.stringify({ sent, busy, seconds, pps: sent / seconds }));
}

async function receive(device: string, group: string, ms: number): Promise<void> {
  const socket = open(device);
  socket.joinGroup(group);
  const latencies: number[] = [];
  let received = 0;
  let bytes = 0;
  let first = 0n;
  let last = 0n;
  const reactor = new Reactor();
  reactor.add(socket, () => {
    for (let packet; (packet = socket.receive());) {
      const at = realtimeNs();
      if (packet.payload.length < 8) continue;
      const view = new DataView(packet.payload.buffer, packet.payload.byteOffset, 8);
      latencies.push(Number(at - view.getBigInt64(0, true)));
      if (received === 0) first = at;
      last = at;
      received++;
      bytes += packet.ipHeader.totalLength;
    }
  });
  const loop = reactor.run();
  console.log(JSON.stringify({ ready: true }));
  await new Promise((resolve) => setTimeout(resolve, ms));
  await reactor.close();
  await loop;
  // Skip the warm-up packets exactly as loop.c does (WARMUP there).
  const steady = latencies.length > 2 * WARMUP ? latencies.slice(WARMUP) : latencies;
  steady.sort((a, b) => a - b);
  const span = Number(last - first) / 1e9;
  const pick = (q: number) => steady.length ? steady[Math.floor(steady.length * q)] / 1e3 : 0;
  console.log(JSON.stringify({
    received,
    bytes,
    span,
    pps: span > 0 ? (received - 1) / span : 0,
    p50_us: pick(0.5),
    p99_us: pick(0.99),
    polls: reactor.polls,
  }));
}

const [mode, device, address, ...rest] = Deno.args;
if (mode === "send") send(device, address, Number(rest[0]), Number(rest[1]));
else if (mode === "recv") await receive(device, address, Number(rest[0]));
else throw new Error("usage: peer.ts send DEV DST SIZE MS | recv DEV GROUP MS");
clock.close();
