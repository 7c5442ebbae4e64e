import { formatFlow, normalizeFlow, parseEndpoint, parseFlow } from "../../lib/control/flow.ts";
import { LineTooLongError, readLines } from "../../lib/control/lines.ts";
import {
  ControlError,
  encodeLine,
  parseRequest,
  parseResponse,
  STREAM_METHODS,
  UNARY_METHODS,
} from "../../lib/control/protocol.ts";
import { isKnownMethod, normalizeHexId, validateParams } from "../../lib/control/validate.ts";
import { importBatches } from "../../lib/cli/states.ts";
import { assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";

Deno.test("parseRequest() accepts requests and names what is wrong with others", () => {
  assertEquals(parseRequest('{"id":1,"method":"status","params":{}}'), {
    id: 1,
    method: "status",
    params: {},
  });
  assertEquals(parseRequest('{"id":"a","method":"states"}'), {
    id: "a",
    method: "states",
    params: {},
  });
  const bad: [string, string, string][] = [
    ["{", "parse_error", "not valid JSON"],
    ["null", "invalid_request", "JSON object"],
    ['"x"', "invalid_request", "JSON object"],
    ['{"method":"status"}', "invalid_request", '"id"'],
    ['{"id":null,"method":"status"}', "invalid_request", '"id"'],
    ['{"id":1}', "invalid_request", '"method"'],
    ['{"id":1,"method":""}', "invalid_request", '"method"'],
    ['{"id":1,"method":"status","params":[1]}', "invalid_request", '"params"'],
  ];
  for (const [line, code, text] of bad) {
    const error = assertThrows(() => parseRequest(line), ControlError, text);
    assertEquals(error.code, code, line);
  }
});

Deno.test("encodeLine() and parseResponse() round-trip results, errors and events", () => {
  const messages = [
    { id: 1, result: { ok: true } },
    { id: null, error: { code: "parse_error", message: "m" } },
    { id: "w", event: { type: "bulk" } },
  ];
  for (const message of messages) {
    const line = encodeLine(message);
    assertEquals(line.endsWith("\n") && !line.slice(0, -1).includes("\n"), true);
    assertEquals(parseResponse(line.trim()), message);
  }
  for (const bad of ["x", "[]", '{"result":1}', '{"id":1}']) {
    assertEquals(assertThrows(() => parseResponse(bad), ControlError).code, "parse_error");
  }
});

Deno.test("every method has a params validator", () => {
  for (const method of [...UNARY_METHODS, ...STREAM_METHODS]) {
    assertEquals(isKnownMethod(method), true, method);
  }
  assertEquals(isKnownMethod("toString"), false);
  assertEquals(isKnownMethod("constructor"), false);
});

Deno.test("validateParams() normalises ids, flows and flags", () => {
  const table: [Parameters<typeof validateParams>[0], Record<string, unknown>, unknown][] = [
    ["status", { junk: 1 }, {}],
    ["states", {}, {}],
    ["states", { verbose: false }, { verbose: false }],
    ["states.delete", { id: "0xAB", creatorid: "BADCAFE" }, {
      id: "00000000000000ab",
      creatorid: "0badcafe",
    }],
    ["states.delete", { flow: { proto: "TCP", src: "192.0.2.10:1234", dst: "198.51.100.7:80" } }, {
      flow: { proto: "tcp", src: "192.0.2.10:1234", dst: "198.51.100.7:80" },
    }],
    ["demote", { delta: -240 }, { delta: -240 }],
    ["maintenance", { on: false }, { on: false }],
    ["states.import", { lines: [] }, { lines: [] }],
  ];
  for (const [method, params, expected] of table) {
    assertEquals(validateParams(method, params), expected, `${method} ${JSON.stringify(params)}`);
  }
  const bad: [Parameters<typeof validateParams>[0], Record<string, unknown>, string][] = [
    [
      "states.delete",
      { id: "1", flow: { proto: "tcp", src: "1.2.3.4:1", dst: "1.2.3.5:2" } },
      "not both",
    ],
    ["states.delete", {
      creatorid: "1",
      flow: { proto: "tcp", src: "1.2.3.4:1", dst: "1.2.3.5:2" },
    }, "needs"],
    ["states.delete", { id: "12345678901234567" }, "at most 16"],
    ["states.delete", { flow: "tcp a -> b" }, '"flow" must be'],
    ["demote", { delta: 256 }, "-255 to 255"],
    ["maintenance", { on: "yes" }, "true or false"],
  ];
  for (const [method, params, text] of bad) {
    const error = assertThrows(() => validateParams(method, params), ControlError, text);
    assertEquals(error.code, "invalid_params");
  }
  assertEquals(normalizeHexId("0badcafe", "c", 8), "0badcafe");
});

Deno.test("parseFlow() reads pfctl flows in both directions and both families", () => {
  const table: [string, string][] = [
    ["tcp 192.0.2.10:1234 -> 198.51.100.7:80", "tcp 192.0.2.10:1234 -> 198.51.100.7:80"],
    ["  udp 198.51.100.7:53 <- 192.0.2.10:5353 ", "udp 192.0.2.10:5353 -> 198.51.100.7:53"],
    ["tcp 2001:db8::1[443] -> 2001:db8::2[80]", "tcp 2001:db8::1[443] -> 2001:db8::2[80]"],
    ["tcp [2001:DB8::1]:443 -> [2001:db8::2]:80", "tcp 2001:db8::1[443] -> 2001:db8::2[80]"],
    ["tcp [192.0.2.1]:1 -> 192.0.2.2:2", "tcp 192.0.2.1:1 -> 192.0.2.2:2"],
    ["icmp6 2001:db8::1[0] -> 2001:db8::2[0]", "ipv6_icmp 2001:db8::1[0] -> 2001:db8::2[0]"],
  ];
  for (const [text, expected] of table) assertEquals(formatFlow(parseFlow(text)), expected, text);
  const bad: [string, string][] = [
    ["tcp 192.0.2.10:1234 198.51.100.7:80", "PROTO SRC -> DST"],
    ["gre 192.0.2.10:1 -> 198.51.100.7:2", "unknown protocol"],
    ["tcp 192.0.2.10:70000 -> 198.51.100.7:80", "0-65535"],
    ["tcp 192.0.2.300:1 -> 198.51.100.7:80", "is not an address"],
    ["tcp 2001:db8::1:80 -> 2001:db8::2:80", "ADDRESS:PORT"],
    ["tcp 192.0.2.1:1 -> 2001:db8::2[80]", "mixes IPv4 and IPv6"],
    ["tcp 192.0.2:1 -> 192.0.2.2:2", "ADDRESS:PORT"],
  ];
  for (const [text, message] of bad) assertThrows(() => parseFlow(text), ControlError, message);
});

Deno.test("parseEndpoint() and normalizeFlow() agree on spelling", () => {
  assertEquals(parseEndpoint("192.0.2.1:0"), { address: new Uint8Array([192, 0, 2, 1]), port: 0 });
  assertEquals(
    normalizeFlow({ proto: "UDP", src: "[2001:db8:0::1]:1", dst: "2001:db8::2[2]" }),
    { proto: "udp", src: "2001:db8::1[1]", dst: "2001:db8::2[2]" },
  );
});

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((chunk) => encoder.encode(chunk)));
}

async function collect(source: ReadableStream<Uint8Array>, max: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readLines(source, max)) lines.push(line);
  return lines;
}

Deno.test("readLines() splits on newlines across chunk boundaries", async () => {
  const table: [string[], string[]][] = [
    [["a\nb\n"], ["a", "b"]],
    [["ab", "c\nd", "e\n"], ["abc", "de"]],
    [["x\n\ny"], ["x", "", "y"]],
    [["h\u00e9", "llo\n"], ["h\u00e9llo"]],
    [[], []],
  ];
  for (const [chunks, lines] of table) assertEquals(await collect(streamOf(...chunks), 100), lines);
  // A multi-byte character split between chunks is decoded whole.
  const bytes = new TextEncoder().encode("\u00e9\n");
  const split = ReadableStream.from([bytes.subarray(0, 1), bytes.subarray(1)]);
  assertEquals(await collect(split, 10), ["\u00e9"]);
});

Deno.test("readLines() stops a line longer than the cap, with or without its newline", async () => {
  assertEquals(await collect(streamOf("12345\n"), 5), ["12345"]);
  for (const chunks of [["123456\n"], ["123", "456"], ["ok\n12", "3456"]]) {
    await assertRejects(() => collect(streamOf(...chunks), 5), LineTooLongError, "exceeds 5 bytes");
  }
});

Deno.test("importBatches() keeps each batch under the byte budget and every line once", () => {
  const lines = Array.from({ length: 10 }, (_, i) => ({ number: i + 1, text: "x".repeat(i * 10) }));
  const batches = importBatches(lines, 120);
  assertEquals(batches.flat(), lines);
  for (const batch of batches) {
    const size = batch.reduce((sum, line) => sum + JSON.stringify(line.text).length + 1, 0);
    assertEquals(size <= 120 || batch.length === 1, true, `batch of ${batch.length}: ${size}`);
  }
  // A single line over budget still travels, alone.
  assertEquals(importBatches([{ number: 1, text: "y".repeat(500) }], 120).length, 1);
  assertEquals(importBatches([], 120), []);
});
