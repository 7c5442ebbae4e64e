/** JSON-lines state form: minimal defaults, full round trip, errors. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  parseEndpoint,
  StateFormatError,
  stateFromJson,
  stateToJson,
} from "../../lib/state/mod.ts";
import { V5_STATE } from "../pfsync/fixtures.ts";

const defaults = { creatorId: 0x0badcafe, newId: () => 0x4a5b6c7d00000009n };

Deno.test("stateFromJson() fills pf-like defaults into the minimal form", () => {
  const table: [Record<string, unknown>, Record<string, unknown>][] = [
    [{ proto: "tcp", src: "192.0.2.10:1234", dst: "198.51.100.7:80" }, {
      af: 2,
      direction: 2,
      lan: { addr: "192.0.2.10", port: 1234 },
      ext: { addr: "198.51.100.7", port: 80 },
      peerStates: [4, 4],
      timeout: 2,
    }],
    [{ proto: "udp", src: "[2001:db8::1]:53", dst: "[2001:db8::2]:5353" }, {
      af: 28,
      direction: 2,
      lan: { addr: "2001:db8::1", port: 53 },
      ext: { addr: "2001:db8::2", port: 5353 },
      peerStates: [2, 2],
      timeout: 8,
    }],
    [{ proto: "icmp", src: "192.0.2.1:7", dst: "192.0.2.2:7", direction: "in" }, {
      af: 2,
      direction: 1,
      lan: { addr: "192.0.2.2", port: 7 },
      ext: { addr: "192.0.2.1", port: 7 },
      peerStates: [0, 0],
      timeout: 9,
    }],
    [{ proto: 47, src: "192.0.2.1", dst: "192.0.2.2" }, {
      af: 2,
      direction: 2,
      lan: { addr: "192.0.2.1", port: 0 },
      ext: { addr: "192.0.2.2", port: 0 },
      peerStates: [2, 2],
      timeout: 13,
    }],
  ];
  for (const [input, expected] of table) {
    const s = stateFromJson(input, defaults);
    assertEquals(
      {
        af: s.af,
        direction: s.direction,
        lan: s.lan,
        ext: s.ext,
        peerStates: [s.src.state, s.dst.state],
        timeout: s.timeout,
      },
      expected,
      JSON.stringify(input),
    );
    assertEquals([s.id, s.creatorId, s.ifname, s.gwy], [
      0x4a5b6c7d00000009n,
      0x0badcafe,
      "self",
      s.lan,
    ]);
  }
});

Deno.test("stateToJson() output reads back to the same State", () => {
  const json = JSON.parse(JSON.stringify(stateToJson(V5_STATE)));
  assertEquals(json.id, "4a5b6c7d00000001");
  assertEquals(json.creatorid, "0badcafe");
  assertEquals([json.src, json.dst, json.gwy], [
    "192.168.0.10:34567",
    "198.51.100.7:80",
    "10.0.0.254:55000",
  ]);
  assertEquals(stateFromJson(json, defaults), V5_STATE);
  const padded = {
    ...V5_STATE,
    ext: { ...V5_STATE.ext, pad: [1, 2, 3] as [number, number, number] },
  };
  assertEquals(stateFromJson(JSON.parse(JSON.stringify(stateToJson(padded))), defaults), padded);
});

Deno.test("stateFromJson() names the bad field", () => {
  const table: [unknown, string][] = [
    [[], "JSON object"],
    [{ proto: "nope", src: "192.0.2.1:1", dst: "192.0.2.2:2" }, "unknown proto"],
    [{ proto: "tcp", src: "192.0.2.1:99999", dst: "192.0.2.2:2" }, "bad endpoint"],
    [{ proto: "tcp", src: "192.0.2.1:1", dst: "[2001:db8::1]:2" }, "one address family"],
    [{ proto: "tcp", src: "192.0.2.1:1", dst: "192.0.2.2:2", timeout: -1 }, "timeout"],
    [{ proto: "tcp", src: "192.0.2.1:1", dst: "192.0.2.2:2", id: "xyz" }, "id must be"],
    [{ proto: "tcp", src: "192.0.2.1:1", dst: "192.0.2.2:2", creatorid: "123456789" }, "creatorid"],
    [{ proto: "tcp", src: "192.0.2.1:1", dst: "192.0.2.2:2", direction: "up" }, "direction"],
    [{ proto: "tcp", src: "192.0.2.1:1", dst: "192.0.2.2:2", ifname: "x".repeat(16) }, "ifname"],
  ];
  for (const [input, message] of table) {
    assertThrows(() => stateFromJson(input, defaults), StateFormatError, message);
  }
});

Deno.test("parseEndpoint() accepts v4:port, [v6]:port, pfctl's v6[port] and bare addresses", () => {
  const table: [string, { addr: string; port: number }][] = [
    ["192.0.2.1:80", { addr: "192.0.2.1", port: 80 }],
    ["[2001:db8::1]:443", { addr: "2001:db8::1", port: 443 }],
    ["2001:db8::1[443]", { addr: "2001:db8::1", port: 443 }],
    ["192.0.2.1", { addr: "192.0.2.1", port: 0 }],
  ];
  for (const [text, expected] of table) assertEquals(parseEndpoint(text), expected, text);
});
