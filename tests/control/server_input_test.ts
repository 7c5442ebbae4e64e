/** Bad input on the control socket: the offender gets a clear error, nobody else notices. */
import { callAgent, ControlClient } from "../../lib/control/client.ts";
import { ControlError, MAX_REQUEST_BYTES } from "../../lib/control/protocol.ts";
import { startControlServer } from "../../lib/control/server.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { rawExchange, tempSocketPath, withServer } from "./fixtures.ts";

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
