import { AgentNotRunningError, callAgent, ControlClient } from "../../lib/control/client.ts";
import { ControlError, MAX_REQUEST_BYTES } from "../../lib/control/protocol.ts";
import { startControlServer } from "../../lib/control/server.ts";
import { ControlSocketInUseError } from "../../lib/control/socket_path.ts";
import type { WatchEvent } from "../../lib/control/types.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import {
  fakeAgent,
  makeStaleSocket,
  sampleStates,
  sampleStatus,
  tempSocketPath,
  WATCH_EVENTS,
} from "./fixtures.ts";

/** Starts a fake agent on a temp path, runs `body`, always closes and cleans up. */
async function withServer(
  body: (path: string, agent: ReturnType<typeof fakeAgent>, errors: string[]) => Promise<void>,
): Promise<void> {
  const temp = await tempSocketPath();
  const agent = fakeAgent();
  const errors: string[] = [];
  const server = await startControlServer({
    path: temp.path,
    handlers: agent.handlers,
    onError: (message) => errors.push(message),
  });
  try {
    await body(temp.path, agent, errors);
  } finally {
    await server.close();
    await temp.cleanup();
  }
}

/** Sends raw bytes, returns every line the server wrote before closing. */
async function rawExchange(path: string, bytes: Uint8Array): Promise<unknown[]> {
  const conn = await Deno.connect({ transport: "unix", path });
  const writer = conn.writable.getWriter();
  // The server may close mid-write once it has seen enough; that is expected.
  const written = writer.write(bytes).catch(() => {});
  const text = await new Response(conn.readable).text().catch(() => "");
  await written;
  try {
    conn.close();
  } catch { /* closed by the server */ }
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

Deno.test("startControlServer() answers every unary method over a real socket", async () => {
  await withServer(async (path, agent) => {
    const client = await ControlClient.connect(path);
    try {
      assertEquals(await client.call("status", {}), sampleStatus());
      assertEquals(await client.call("states", { verbose: true }), { states: sampleStates() });
      assertEquals(await client.call("states.import", { lines: ["{}", "bad", "{}"] }), {
        imported: 2,
        errors: [{ line: 2, message: "not a state" }],
      });
      assertEquals(await client.call("states.delete", { id: "0x1F" }), { deleted: 1 });
      assertEquals(await client.call("demote", { delta: 5 }), {
        value: 5,
        reasons: [{ reason: "operator", delta: 5 }],
        maintenance: false,
      });
      assertEquals(await client.call("resync", {}), { requested: true });
      assertEquals((await client.call("maintenance", { on: true })).maintenance, true);
      const reload = await assertRejects(() => client.call("reload", {}), ControlError);
      assertEquals(reload.code, "failed");
      assertStringIncludes(reload.message, "kept the running configuration");
    } finally {
      client.close();
      await client.closed();
    }
    // Params reach the handler normalised (ids padded to 16 hex digits).
    assertEquals(agent.calls.find((c) => c.method === "states.delete")?.params, {
      id: "000000000000001f",
    });
  });
});

Deno.test("startControlServer() serves concurrent calls on one connection in order", async () => {
  await withServer(async (path) => {
    const client = await ControlClient.connect(path);
    try {
      const results = await Promise.all([
        client.call("resync", {}),
        client.call("demote", { delta: 1 }),
        client.call("demote", { delta: 2 }),
      ]);
      assertEquals(results.map((r) => "value" in r ? r.value : "resync"), ["resync", 1, 3]);
    } finally {
      client.close();
      await client.closed();
    }
  });
});

Deno.test("startControlServer() creates the socket with mode 0600 and removes it on close", async () => {
  const temp = await tempSocketPath();
  const server = await startControlServer({ path: temp.path, handlers: fakeAgent().handlers });
  try {
    const info = await Deno.lstat(temp.path);
    assert(info.isSocket, "socket file exists");
    assertEquals(info.mode! & 0o777, 0o600);
  } finally {
    await server.close();
  }
  const gone = await Deno.lstat(temp.path).then(() => false, () => true);
  assert(gone, "socket file removed on close");
  await temp.cleanup();
});

Deno.test("startControlServer() refuses a path a live agent answers on, naming it", async () => {
  await withServer(async (path) => {
    const error = await assertRejects(
      () => startControlServer({ path, handlers: {} }),
      ControlSocketInUseError,
    );
    assertStringIncludes(error.message, path);
    // The live agent is untouched.
    assertEquals((await callAgent(path, "resync", {})).requested, true);
  });
});

Deno.test("startControlServer() replaces a stale socket file and refuses a regular file", async () => {
  const temp = await tempSocketPath();
  try {
    await makeStaleSocket(temp.path);
    assert((await Deno.lstat(temp.path)).isSocket);
    const server = await startControlServer({ path: temp.path, handlers: fakeAgent().handlers });
    assertEquals((await callAgent(temp.path, "resync", {})).requested, true);
    await server.close();

    await Deno.writeTextFile(temp.path, "not a socket");
    await assertRejects(
      () => startControlServer({ path: temp.path, handlers: {} }),
      Error,
      "is not a socket",
    );
    assertEquals(await Deno.readTextFile(temp.path), "not a socket");
  } finally {
    await temp.cleanup();
  }
});

const BAD_LINES: { name: string; bytes: () => Uint8Array; code: string; text: string }[] = [
  {
    name: "a request over 1 MiB",
    bytes: () =>
      new TextEncoder().encode(
        `{"id":1,"method":"status","params":{"x":"${"a".repeat(MAX_REQUEST_BYTES)}"}}\n`,
      ),
    code: "request_too_large",
    text: "exceeds 1048576 bytes",
  },
  {
    name: "1 MiB without any newline",
    bytes: () => new Uint8Array(MAX_REQUEST_BYTES + 10).fill(0x41),
    code: "request_too_large",
    text: "connection closed",
  },
  {
    name: "malformed JSON",
    bytes: () => new TextEncoder().encode('{"id":1,"method":\n'),
    code: "parse_error",
    text: "not valid JSON",
  },
  {
    name: "JSON that is not a request",
    bytes: () => new TextEncoder().encode('[1,2,3]\n{"id":2,"method":"status"}\n'),
    code: "invalid_request",
    text: "JSON object",
  },
  {
    name: "a request without an id",
    bytes: () => new TextEncoder().encode('{"method":"status"}\n'),
    code: "invalid_request",
    text: '"id"',
  },
];

for (const bad of BAD_LINES) {
  Deno.test(`startControlServer() answers ${bad.name} with ${bad.code} and closes; others go on`, async () => {
    await withServer(async (path, _agent, errors) => {
      const bystander = await ControlClient.connect(path);
      try {
        const lines = await rawExchange(path, bad.bytes());
        assertEquals(lines.length, 1, `one error line, then close: ${JSON.stringify(lines)}`);
        const [line] = lines as { id: null; error: { code: string; message: string } }[];
        assertEquals(line.id, null);
        assertEquals(line.error.code, bad.code);
        assertStringIncludes(line.error.message, bad.text);
        assertEquals(errors.length, 1, "the agent is told once");
        // A client connected before and one connecting after are both served.
        assertEquals((await bystander.call("status", {})).pid, 4242);
        assertEquals((await callAgent(path, "resync", {})).requested, true);
      } finally {
        bystander.close();
        await bystander.closed();
      }
    });
  });
}

const BAD_CALLS: { method: string; params: unknown; code: string; text: string }[] = [
  { method: "explode", params: {}, code: "unknown_method", text: '"explode"' },
  { method: "demote", params: { delta: "x" }, code: "invalid_params", text: "delta" },
  { method: "demote", params: { delta: 1.5 }, code: "invalid_params", text: "integer" },
  { method: "maintenance", params: {}, code: "invalid_params", text: '"on"' },
  { method: "states", params: { verbose: "yes" }, code: "invalid_params", text: "verbose" },
  { method: "states.import", params: { lines: [1] }, code: "invalid_params", text: "lines" },
  { method: "states.delete", params: {}, code: "invalid_params", text: 'give "id" or "flow"' },
  { method: "states.delete", params: { id: "zz" }, code: "invalid_params", text: "hex" },
  {
    method: "states.delete",
    params: { flow: { proto: "gre", src: "192.0.2.1:1", dst: "192.0.2.2:2" } },
    code: "invalid_params",
    text: "unknown protocol",
  },
  { method: "states.delete", params: { id: "00000000000000aa" }, code: "failed", text: "no such" },
];

Deno.test("startControlServer() answers bad calls with a code and keeps the connection", async () => {
  await withServer(async (path) => {
    const client = await ControlClient.connect(path);
    try {
      for (const bad of BAD_CALLS) {
        const error = await assertRejects(
          // deno-lint-ignore no-explicit-any
          () => client.call(bad.method as any, bad.params as any),
          ControlError,
        );
        assertEquals(error.code, bad.code, `${bad.method} ${JSON.stringify(bad.params)}`);
        assertStringIncludes(error.message, bad.text);
      }
      assertEquals((await client.call("resync", {})).requested, true);
    } finally {
      client.close();
      await client.closed();
    }
  });
});

Deno.test("startControlServer() reports a missing handler as not_supported and a crash as internal", async () => {
  const temp = await tempSocketPath();
  const errors: string[] = [];
  const server = await startControlServer({
    path: temp.path,
    handlers: { resync: () => Promise.reject(new TypeError("boom")) },
    onError: (message) => errors.push(message),
  });
  try {
    const missing = await assertRejects(() => callAgent(temp.path, "status", {}), ControlError);
    assertEquals(missing.code, "not_supported");
    const crash = await assertRejects(() => callAgent(temp.path, "resync", {}), ControlError);
    assertEquals([crash.code, crash.message], ["internal", "boom"]);
    assertEquals(errors.length, 1);
    assertStringIncludes(errors[0], "boom");
  } finally {
    await server.close();
    await temp.cleanup();
  }
});

Deno.test("ControlClient.stream() receives watch events until the client stops", async () => {
  await withServer(async (path, agent) => {
    const client = await ControlClient.connect(path);
    const seen: WatchEvent[] = [];
    for await (const event of client.stream("watch", {})) {
      seen.push(event);
      if (seen.length === WATCH_EVENTS.length) break;
    }
    assertEquals(seen, WATCH_EVENTS);
    await client.closed();
    // The server notices the client left and releases the handler's stream.
    await agent.watchEnded;
  });
});

Deno.test("ControlClient.stream() ends with an error when the agent shuts down", async () => {
  const temp = await tempSocketPath();
  const agent = fakeAgent();
  const server = await startControlServer({ path: temp.path, handlers: agent.handlers });
  try {
    const client = await ControlClient.connect(temp.path);
    let count = 0;
    const error = await assertRejects(async () => {
      for await (const _event of client.stream("watch", {})) {
        if (++count === WATCH_EVENTS.length) await server.close();
      }
    }, ControlError);
    assertStringIncludes(error.message, "closed the control connection");
    await agent.watchEnded;
  } finally {
    await server.close();
    await temp.cleanup();
  }
});

Deno.test("ControlClient.connect() names the path and 'pfsyncd run' when no agent answers", async () => {
  const temp = await tempSocketPath();
  try {
    const missing = await assertRejects(
      () => ControlClient.connect(temp.path),
      AgentNotRunningError,
    );
    assertStringIncludes(missing.message, temp.path);
    assertStringIncludes(missing.message, "pfsyncd run");
    await makeStaleSocket(temp.path);
    const stale = await assertRejects(
      () => callAgent(temp.path, "status", {}),
      AgentNotRunningError,
    );
    assertStringIncludes(stale.message, "stale socket");
  } finally {
    await temp.cleanup();
  }
});
