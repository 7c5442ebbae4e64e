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

Deno.test("Reactor.run() yields only after a busy stretch, not every turn, under a flood", async () => {
  // One callback of 0.2 ms a turn. A yield is a timer (1–2 ms): taken every turn it would
  // cost more than the work. Counted in turns, not timed, so a loaded machine cannot fail it;
  // the time share is a benchmark figure (bench/sockets).
  const yieldAfterMs = 10;
  const reactor = new Reactor({ yieldAfterMs });
  const pipe = openPipe();
  writeByte(pipe.write, 1);
  let turns = 0;
  reactor.add(pipe.read, () => {
    spin(0.2);
    turns++;
  });
  const loop = reactor.run();
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.write);
  }
  assert(reactor.yields > 0, "the loop yielded");
  // 10 ms of 0.2 ms turns is 50 turns a stretch; allow for stretches cut short by slow polls.
  assert(
    turns >= 10 * reactor.yields,
    `${turns} turns for ${reactor.yields} yields (want at least 10 turns a yield)`,
  );
});
