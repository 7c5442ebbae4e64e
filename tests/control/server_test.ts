import { AgentNotRunningError, callAgent, ControlClient } from "../../lib/control/client.ts";
import { ControlError } from "../../lib/control/protocol.ts";
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
  withServer,
} from "./fixtures.ts";

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

Deno.test("ControlServer.close() does not wait for a handler that never answers", async () => {
  const temp = await tempSocketPath();
  let called!: () => void;
  const reached = new Promise<void>((resolve) => called = resolve);
  const server = await startControlServer({
    path: temp.path,
    handlers: {
      reload: () => {
        called();
        return new Promise(() => {});
      },
    },
  });
  try {
    const client = await ControlClient.connect(temp.path);
    // Settle into a value at once: the rejection arrives while close() is awaited.
    const outcome = client.call("reload", {}).then(() => undefined, (error: Error) => error);
    await reached;
    await server.close();
    const error = await outcome;
    assert(error instanceof ControlError, `rejected with ControlError, got ${error}`);
    assertStringIncludes(error.message, "closed the control connection");
    await client.closed();
  } finally {
    await server.close();
    await temp.cleanup();
  }
});
