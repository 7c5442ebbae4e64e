/**
 * The reactor must not starve the rest of the agent: while a registered fd
 * stays readable (a pfsync flood), Deno's own I/O — the control socket — has
 * to be served too. A poll() that returns at once, turn after turn, never
 * lets the runtime look at its sockets unless the loop yields a macrotask.
 */
import { Reactor } from "../../lib/sys/reactor.ts";
import { assert } from "../helpers/assert.ts";
import { closeQuietly, openPipe, waitUntil, writeByte } from "./pipes.ts";

/** Busy for `ms` milliseconds, as a drain callback decoding packets is. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // work
  }
}

/** One request/answer over a Unix socket; undefined when none came within `ms`. */
async function roundTrip(path: string, ms: number): Promise<number | undefined> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const exchange = (async () => {
    const conn = await Deno.connect({ transport: "unix", path });
    try {
      await conn.write(new Uint8Array([1]));
      const answer = new Uint8Array(1);
      await conn.read(answer);
      return performance.now() - started;
    } finally {
      conn.close();
    }
  })();
  try {
    return await Promise.race([exchange, timeout]);
  } finally {
    clearTimeout(timer);
    // On a timeout the exchange finishes once the reactor stops; do not leak it.
    exchange.catch(() => {});
  }
}

Deno.test("Reactor.run() serves Deno socket I/O while an fd stays readable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reactor-fair-" });
  const path = `${dir}/echo.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const served = (async () => {
    for await (const conn of listener) {
      const byte = new Uint8Array(1);
      if (await conn.read(byte) !== null) await conn.write(byte);
      conn.close();
    }
  })().catch(() => {});

  const reactor = new Reactor();
  const pipe = openPipe();
  writeByte(pipe.write, 1); // never read: readable on every poll, like a flood
  let calls = 0;
  reactor.add(pipe.read, () => {
    calls++;
    spin(25); // a long drain callback
  });
  const loop = reactor.run();
  try {
    await waitUntil(() => calls > 3, "the reactor to spin");
    const turns: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = calls;
      const ms = await roundTrip(path, 5_000);
      assert(ms !== undefined, `round trip ${i} answered while the fd stayed readable`);
      turns.push(calls - before);
    }
    // Connect, accept, read, write and read back each need the runtime to look
    // at its sockets: without yields that is one step per busy turn (4+ turns).
    const worst = Math.max(...turns);
    assert(worst <= 2, `a round trip took at most 2 busy turns (took ${turns.join(", ")})`);
    assert(reactor.yields > 0, "the loop yielded");
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.write);
    listener.close();
    await served;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Reactor.run() keeps the cost of its yields small under a flood", async () => {
  // One callback of 0.2 ms a turn: most of the time must go to the callbacks,
  // not to waiting on the timers the loop yields with.
  const reactor = new Reactor();
  const pipe = openPipe();
  writeByte(pipe.write, 1);
  let busy = 0;
  reactor.add(pipe.read, () => {
    const t = performance.now();
    spin(0.2);
    busy += performance.now() - t;
  });
  const loop = reactor.run();
  const started = performance.now();
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.write);
  }
  const share = busy / (performance.now() - started);
  assert(share > 0.5, `callbacks had ${(share * 100).toFixed(0)}% of the time (want > 50%)`);
});
