/**
 * The control client does not wait forever: a request without an answer
 * rejects with AgentTimeoutError naming the socket and the method, while an
 * answer that is slow but arriving (a large listing) is not cut off.
 */
import {
  AgentNotRunningError,
  AgentTimeoutError,
  callAgent,
  ControlClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from "../../lib/control/client.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { sampleStatus, tempSocketPath } from "./fixtures.ts";

type Answer = (conn: Deno.Conn, id: number) => Promise<void>;

/** A hand-made agent: runs `answer` for each request line, in order, until the client leaves. */
async function fakeServer(answer: Answer) {
  const { path, cleanup } = await tempSocketPath();
  const listener = Deno.listen({ transport: "unix", path });
  const open = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const loop = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      tasks.push(
        (async () => {
          const buffer = new Uint8Array(4096);
          let text = "";
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) return;
            text += new TextDecoder().decode(buffer.subarray(0, n));
            let end: number;
            while ((end = text.indexOf("\n")) !== -1) {
              const request = JSON.parse(text.slice(0, end));
              text = text.slice(end + 1);
              await answer(conn, request.id);
            }
          }
        })().catch(() => {}).finally(() => open.delete(conn)),
      );
    }
  })().catch(() => {});
  return {
    path,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
      await loop;
      await Promise.all(tasks);
      await cleanup();
    },
  };
}

const line = (value: unknown) => new TextEncoder().encode(JSON.stringify(value) + "\n");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("callAgent() rejects with AgentTimeoutError naming the socket when no answer comes", async () => {
  const server = await fakeServer(() => Promise.resolve()); // reads, never answers
  try {
    const started = performance.now();
    const error = await assertRejects(
      () => callAgent(server.path, "status", {}, { timeoutMs: 200 }),
      AgentTimeoutError,
    );
    const waited = performance.now() - started;
    assert(waited >= 190 && waited < 2_000, `gave up after about 200 ms (${waited.toFixed(0)})`);
    assertStringIncludes(error.message, server.path);
    assertStringIncludes(error.message, '"status"');
    assertStringIncludes(error.message, "0.2 s");
    assertEquals((error as AgentTimeoutError).method, "status");
    // Every command already maps this family of errors to a clear exit 1.
    assert(error instanceof AgentNotRunningError);
  } finally {
    await server.close();
  }
});

Deno.test("ControlClient.connect() defaults to a 10 s request timeout", async () => {
  const server = await fakeServer(async (conn, id) => {
    await conn.write(line({ id, result: sampleStatus() }));
  });
  try {
    assertEquals(DEFAULT_REQUEST_TIMEOUT_MS, 10_000);
    const client = await ControlClient.connect(server.path);
    try {
      assertEquals(client.timeoutMs, 10_000);
      assertEquals((await client.call("status", {})).states.count, sampleStatus().states.count);
    } finally {
      client.close();
      await client.closed();
    }
  } finally {
    await server.close();
  }
});

Deno.test("ControlClient.call() keeps waiting while a large answer is still arriving", async () => {
  // 6 chunks 100 ms apart: 600 ms in all, never 250 ms without a byte.
  const server = await fakeServer(async (conn, id) => {
    const bytes = line({ id, result: sampleStatus() });
    const step = Math.ceil(bytes.length / 6);
    for (let offset = 0; offset < bytes.length; offset += step) {
      await sleep(100);
      await conn.write(bytes.subarray(offset, offset + step));
    }
  });
  try {
    const started = performance.now();
    const status = await callAgent(server.path, "status", {}, { timeoutMs: 250 });
    assert(performance.now() - started >= 500, "the answer took longer than the timeout");
    assertEquals(status.states.count, sampleStatus().states.count);
  } finally {
    await server.close();
  }
});

Deno.test("ControlClient.call() with timeoutMs 0 waits for a late answer", async () => {
  const server = await fakeServer(async (conn, id) => {
    await sleep(300);
    await conn.write(line({ id, result: sampleStatus() }));
  });
  try {
    const client = await ControlClient.connect(server.path, { timeoutMs: 100 });
    try {
      await assertRejects(() => client.call("status", {}), AgentTimeoutError);
      // The same client, one call told to wait: the late answer to it arrives.
      const status = await client.call("status", {}, { timeoutMs: 0 });
      assertEquals(status.states.count, sampleStatus().states.count);
    } finally {
      client.close();
      await client.closed();
    }
  } finally {
    await server.close();
  }
});
