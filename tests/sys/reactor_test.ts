import { Reactor } from "../../lib/sys/reactor.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { closeQuietly, delay, drain, fdTarget, openPipe, waitUntil, writeByte } from "./pipes.ts";

/** Resolves on the next readable callback of `fd`, draining it. */
function nextRead(reactor: Reactor, fd: number): Promise<number[]> {
  return new Promise((resolve) => {
    reactor.add(fd, () => {
      reactor.remove(fd);
      resolve(drain(fd));
    });
  });
}

Deno.test("Reactor.add() calls back when the fd turns readable, and remove() stops it", async () => {
  const reactor = new Reactor();
  const pipe = openPipe();
  const seen: number[] = [];
  reactor.add(pipe.read, () => seen.push(...drain(pipe.read)));
  const loop = reactor.run();
  try {
    writeByte(pipe.write, 1);
    await waitUntil(() => seen.length > 0, "the first callback");
    assertEquals(seen, [1]);
    reactor.remove(pipe.read);
    writeByte(pipe.write, 2);
    await delay(30);
    assertEquals(seen, [1]);
    assertEquals(drain(pipe.read), [2]);
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.read);
    closeQuietly(pipe.write);
  }
});

Deno.test("Reactor.add() during a pending poll takes effect without another event", async () => {
  const reactor = new Reactor();
  const loop = reactor.run();
  const pipe = openPipe();
  try {
    await delay(20); // the poll is now in flight with only the wake-up fd
    writeByte(pipe.write, 7);
    const started = performance.now();
    const got = await nextRead(reactor, pipe.read);
    assertEquals(got, [7]);
    assert(performance.now() - started < 250, "callback within 250 ms");
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.read);
    closeQuietly(pipe.write);
  }
});

Deno.test("Reactor.run() does not poll again while idle", async () => {
  const reactor = new Reactor();
  const loop = reactor.run();
  try {
    await delay(50);
    const before = reactor.polls;
    await delay(300);
    assertEquals(reactor.polls, before, "no poll() returned while nothing happened");
    reactor.wake();
    await waitUntil(() => reactor.polls > before, "the woken poll() to return");
    await delay(50);
    assertEquals(reactor.polls, before + 1, "one wake-up, one poll() return");
  } finally {
    await reactor.close();
    await loop;
  }
});

Deno.test("Reactor.stop() settles run() and the in-flight poll; run() can start again", async () => {
  const reactor = new Reactor();
  const pipe = openPipe();
  let calls = 0;
  reactor.add(pipe.read, () => {
    calls++;
    drain(pipe.read);
  });
  try {
    const first = reactor.run();
    assert(reactor.running);
    await reactor.stop();
    await first;
    assert(!reactor.running);
    writeByte(pipe.write);
    await delay(20);
    assertEquals(calls, 0, "no callbacks while stopped");
    const second = reactor.run();
    await waitUntil(() => calls > 0, "the callback after restart");
    assertEquals(calls, 1, "the pending byte is seen after restart");
    await reactor.stop();
    await second;
  } finally {
    await reactor.close();
    closeQuietly(pipe.write);
  }
});

Deno.test("Reactor.close() closes every registered fd exactly once", async () => {
  const reactor = new Reactor();
  const plain = openPipe();
  const owned = openPipe();
  let ownedCloses = 0;
  const socketLike = {
    fd: owned.read,
    close() {
      ownedCloses++;
      closeQuietly(owned.read);
    },
  };
  const targets = [plain.read, owned.read, plain.write].map(fdTarget);
  reactor.add(plain.read, () => drain(plain.read));
  reactor.add(socketLike, () => drain(owned.read));
  const loop = reactor.run();
  await delay(10);
  await reactor.close();
  await loop;
  await reactor.close();
  assert(targets.every((t) => t?.startsWith("pipe:")), `pipes before: ${targets}`);
  assert(fdTarget(plain.read) !== targets[0], "plain fd closed");
  assert(fdTarget(owned.read) !== targets[1], "object's fd closed");
  assertEquals(ownedCloses, 1);
  assertEquals(fdTarget(plain.write), targets[2], "unregistered fds are left alone");
  assertEquals(reactor.size, 0);
  closeQuietly(plain.write);
  closeQuietly(owned.write);
});

Deno.test("Reactor.run() rejects with the error a callback throws", async () => {
  const reactor = new Reactor();
  const pipe = openPipe();
  reactor.add(pipe.read, () => {
    throw new Error("callback bug");
  });
  try {
    const loop = reactor.run();
    writeByte(pipe.write);
    await assertRejects(() => loop, Error, "callback bug");
    assert(!reactor.running);
  } finally {
    await reactor.close();
    closeQuietly(pipe.write);
  }
});

Deno.test("Reactor reports and drops an fd closed behind its back (POLLNVAL)", async () => {
  const invalid: number[] = [];
  const reactor = new Reactor({ onInvalid: (fd) => invalid.push(fd) });
  const pipe = openPipe();
  reactor.add(pipe.read, () => drain(pipe.read));
  closeQuietly(pipe.read);
  const loop = reactor.run();
  try {
    await waitUntil(() => invalid.length > 0, "onInvalid");
    assertEquals(invalid, [pipe.read]);
    assertEquals(reactor.size, 0);
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.write);
  }
});

Deno.test("Reactor.add() refuses an fd twice and any fd after close()", async () => {
  const reactor = new Reactor();
  const pipe = openPipe();
  reactor.add(pipe.read, () => {});
  let error = "";
  try {
    reactor.add(pipe.read, () => {});
  } catch (e) {
    error = String(e);
  }
  assert(error.includes("already registered"), error);
  await reactor.close();
  try {
    reactor.add(pipe.write, () => {});
    error = "";
  } catch (e) {
    error = String(e);
  }
  assert(error.includes("closed"), error);
  closeQuietly(pipe.write);
});

Deno.test("Reactor lets timers run while an fd stays readable (no starvation)", async () => {
  const reactor = new Reactor();
  const pipe = openPipe();
  let calls = 0;
  reactor.add(pipe.read, () => calls++); // never drains: readable forever
  writeByte(pipe.write);
  const loop = reactor.run();
  try {
    const started = performance.now();
    await delay(20);
    const waited = performance.now() - started;
    assert(waited < 200, `a 20 ms timer fired after ${waited.toFixed(0)} ms`);
    assert(calls > 0, "the callback ran meanwhile");
  } finally {
    await reactor.close();
    await loop;
    closeQuietly(pipe.write);
  }
});
