import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import {
  classifyNlMessage,
  decodeNfGenMsg,
  decodeNlMsgHeader,
  encodeNfGenMsg,
  encodeNlMsg,
  HOST_LITTLE_ENDIAN,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlReply,
  splitNlMessages,
} from "../../lib/netlink/mod.ts";

// Spec §5.1: kernel ACK for the create request (36 bytes, CAPPED).
const ACK = fromHex(`
  24000000  # nlmsg_len 36
  0200 0001 # NLMSG_ERROR, flags 0x0100 NLM_F_CAPPED
  f6b40a6b  # seq echoed
  a72e0000  # pid 11943 (the tool's port id)
  00000000  # error 0 = ACK
  ac000000 00010506 f6b40a6b 00000000  # the request's header
`);
// Spec §5.6: dump request and the DONE that ends the dump (pid filled in as 0x2ea7).
const DUMP_REQUEST = "14000000 01010103 04000000 00000000 00000000";
const DONE = fromHex("14000000 03000200 04000000 a72e0000 00000000");

function parse(hex: string | Uint8Array): NlReply[] {
  const bytes = typeof hex === "string" ? fromHex(hex) : hex;
  return splitNlMessages(bytes, true).map((m) => classifyNlMessage(m, true));
}

Deno.test("HOST_LITTLE_ENDIAN matches this machine (x86_64 and arm64: little)", () => {
  assertEquals(HOST_LITTLE_ENDIAN, new Uint8Array(new Uint32Array([1]).buffer)[0] === 1);
});

Deno.test("encodeNlMsg() builds spec §5.6 dump request and §1.6 flag values", () => {
  const request = encodeNlMsg(
    { type: 0x0101, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 4 },
    [encodeNfGenMsg({ family: 0, version: 0, resId: 0 })],
    true,
  );
  assertEquals(toHex(request), DUMP_REQUEST.replaceAll(" ", ""));
  assertEquals(NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, 0x0605);
});

Deno.test("encodeNlMsg() aligns parts and honours the byte-order parameter", () => {
  const le = encodeNlMsg({ type: 20, flags: 5, seq: 0x01020304, pid: 7 }, [
    fromHex("aa"),
    fromHex("bbcc"),
  ], true);
  // "aa" pads to 4 before the next part; the last part's pad is not counted.
  assertEquals(toHex(le), "16000000" + "1400" + "0500" + "04030201" + "07000000" + "aa000000bbcc");
  const be = encodeNlMsg({ type: 20, flags: 5, seq: 1 }, [], false);
  assertEquals(toHex(be), "00000010" + "0014" + "0005" + "00000001" + "00000000");
  assertEquals(decodeNlMsgHeader(be, 0, false), { length: 16, type: 20, flags: 5, seq: 1, pid: 0 });
});

Deno.test("classifyNlMessage() reads spec §5.1 ACK with the echoed request header", () => {
  const [reply] = parse(ACK);
  assertEquals(reply.kind, "ack");
  assertEquals(reply.message.header, {
    length: 36,
    type: NLMSG_ERROR,
    flags: 0x100,
    seq: 1795863798,
    pid: 11943,
  });
});

Deno.test("classifyNlMessage() reads spec §5.2 EEXIST with the whole request echoed", () => {
  const request = encodeNlMsg({ type: 0x0100, flags: 0x0605, seq: 2 }, [new Uint8Array(156)], true);
  const reply = fromHex("c0000000 02000000 02000000 8b500000 efffffff");
  const datagram = new Uint8Array(reply.length + request.length);
  datagram.set(reply);
  datagram.set(request, reply.length);
  const [r] = parse(datagram);
  assert(r.kind === "error");
  assertEquals(r.errno, 17);
  assertEquals(r.request, { length: 172, type: 0x0100, flags: 0x0605, seq: 2, pid: 0 });
  assertEquals(r.extMessage, undefined);
});

Deno.test("classifyNlMessage() reads extended-ACK text and offset after a capped echo", () => {
  const [r] = parse(`
    3c000000 0200 0003 09000000 00000000  # ERROR, flags CAPPED|ACK_TLVS, seq 9
    eaffffff                              # -22 EINVAL
    28000000 14000500 09000000 00000000   # echoed request header only (CAPPED)
    0f000100 62616420 70726566 697800     # NLMSGERR_ATTR_MSG "bad prefix" + pad
    00
    08000200 18000000                     # NLMSGERR_ATTR_OFFS 24
  `);
  assert(r.kind === "error");
  assertEquals([r.errno, r.extMessage, r.extOffset], [22, "bad prefix", 24]);
});

Deno.test("splitNlMessages() walks several messages of one datagram (spec §5.6 DONE)", () => {
  const datagram = new Uint8Array(ACK.length + DONE.length);
  datagram.set(ACK);
  datagram.set(DONE, ACK.length);
  const replies = parse(datagram);
  assertEquals(replies.map((r) => r.kind), ["ack", "done"]);
  const done = replies[1];
  assert(done.kind === "done");
  assertEquals([done.errno, done.message.header.flags, done.message.offset], [0, NLM_F_MULTI, 36]);
  assertEquals(done.message.header.type, NLMSG_DONE);
});

Deno.test("classifyNlMessage() maps every control type and passes family types through", () => {
  const cases: Array<[string, string]> = [
    ["10000000 0100 0000 00000000 00000000", "noop"],
    ["10000000 0400 0000 00000000 00000000", "overrun"],
    ["10000000 0300 0200 00000000 00000000", "done"], // empty DONE payload = success
    ["14000000 0300 0200 00000000 00000000 f4ffffff", "done"],
    ["14000000 1000 0000 00000000 00000000 00000000", "data"],
  ];
  for (const [hex, kind] of cases) assertEquals(parse(hex)[0].kind, kind, hex);
  const failed = parse("14000000 0300 0200 00000000 00000000 f4ffffff")[0];
  assert(failed.kind === "done");
  assertEquals(failed.errno, 12); // ENOMEM during the dump
});

Deno.test("splitNlMessages()/classifyNlMessage() reject malformed framing", () => {
  const cases: Array<[string, string, string, number]> = [
    ["header cut short", "14000000 0300 0200", "badlen", 0],
    ["nlmsg_len below 16", "0c000000 03000200 00000000 00000000", "badlen", 0],
    ["nlmsg_len past the datagram", "18000000 03000200 00000000 00000000 00000000", "badlen", 0],
    [
      "second message truncated",
      "10000000 01000000 00000000 00000000 14000000 03000200 00000000",
      "badlen",
      16,
    ],
    ["ERROR without status", "10000000 02000000 00000000 00000000", "badlen", 0],
    ["reserved control type", "10000000 05000000 00000000 00000000", "badtype", 0],
  ];
  for (const [name, hex, reason, offset] of cases) {
    const error = assertThrows(() => parse(hex), DecodeError);
    assertEquals([error.reason, error.offset], [reason, offset], name);
  }
});

Deno.test("encodeNfGenMsg()/decodeNfGenMsg() keep res_id big-endian (spec §1.4)", () => {
  const bytes = encodeNfGenMsg({ family: 10, version: 1, resId: 0x0102 });
  assertEquals(toHex(bytes), "0a010102");
  assertEquals(decodeNfGenMsg(bytes), { family: 10, version: 1, resId: 0x0102 });
  assertThrows(() => decodeNfGenMsg(bytes.subarray(1)), DecodeError, "nfgenmsg");
});
