/**
 * nfnetlink_queue codec (lib/netlink/nfqueue.ts) against messages captured
 * from a 6.18 kernel (x86_64, little-endian headers) in a lab namespace: the
 * lab's delay queue bound queue 7, an NFQUEUE rule sent it one ping, and it
 * answered with a verdict, then with a verdict for an id the kernel never
 * issued.
 */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { DecodeError, fromHex, toHex } from "../../lib/bytes/mod.ts";
import { classifyNlMessage, splitNlMessages } from "../../lib/netlink/nlmsg.ts";
import {
  configParamsKind,
  decodeNfqPacket,
  encodeNfqConfig,
  encodeNfqVerdict,
  NF_ACCEPT,
  NF_DROP,
  NF_INET_LOCAL_OUT,
  NFQ_MSG_CONFIG,
  NFQ_MSG_PACKET,
  NFQ_MSG_VERDICT,
  NFQA_CFG_F_FAIL_OPEN,
  NFQNL_CFG_CMD_BIND,
  NFQNL_COPY_PACKET,
  packetHdrKind,
  verdictHdrKind,
} from "../../lib/netlink/nfqueue.ts";
import { DelaySchedule, drawDelay, parseArgs } from "../lab/fixtures/nfqueue_delay.ts";
import { fnv1a, ipPayload } from "../lab/fixtures/faults_jitter.ts";

const LE = true;

// NFQNL_MSG_CONFIG, command BIND queue 7 (as sent; the kernel ACKed it).
const BIND = `
  1c000000            # nlmsg_len 28
  0203 0500           # type 0x0302 (QUEUE << 8 | CONFIG), flags REQUEST|ACK
  01000000 00000000   # seq 1, pid 0
  00 00 0007          # nfgenmsg: AF_UNSPEC, version 0, res_id = queue 7 (big-endian)
  0800 0100           # NFQA_CFG_CMD, nla_len 8
  01 00 0000          # command BIND, pad, pf 0
`;

// NFQNL_MSG_CONFIG, params COPY_PACKET range 64 and queue maxlen 100 (ACKed).
const PARAMS = `
  28000000 0203 0500 02000000 00000000  # len 40, CONFIG, REQUEST|ACK, seq 2
  00 00 0007                            # queue 7
  0900 0200                             # NFQA_CFG_PARAMS, nla_len 9 (5-byte packed struct)
  00000040 02 000000                    # copy_range 64, copy_mode PACKET, 3 pad bytes
  0800 0300 00000064                    # NFQA_CFG_QUEUE_MAXLEN 100 (big-endian)
`;

// The kernel's ACK for PARAMS: NLMSG_ERROR 0, CAPPED, the request header echoed.
const PARAMS_ACK = `
  24000000 0200 0001 02000000 203f0000  # len 36, NLMSG_ERROR, CAPPED, seq 2, our port id
  00000000                              # error 0
  28000000 02030500 02000000 00000000   # the request's header
`;

// NFQNL_MSG_PACKET: a locally sent ICMP echo request (36 bytes, pattern 0xab) queued on
// OUTPUT, leaving by ifindex 2.
const PACKET = `
  50000000 0003 0000 00000000 00000000  # len 80, type 0x0300 PACKET, flags 0, seq 0, pid 0
  02 00 0007                            # nfgenmsg: AF_INET, version 0, queue 7
  0b00 0100 00000001 0800 03 00         # NFQA_PACKET_HDR (11): id 1, IPv4, hook LOCAL_OUT; pad
  0800 0600 00000002                    # NFQA_IFINDEX_OUTDEV 2
  2800 0a00                             # NFQA_PAYLOAD, 40 = 4 + 36 bytes of IP packet:
  45000024 61924000 4001c364 0af00001 0af00002  # IPv4 10.240.0.1 -> .2, proto 1
  0800 0dd8 3f26 0001 ab00000000000000  # echo request id 0x3f26 seq 1, payload
`;

// NFQNL_MSG_VERDICT: ACCEPT packet 1 of queue 7.
const VERDICT = `
  20000000 0103 0100 00000000 00000000  # len 32, type 0x0301 VERDICT, flags REQUEST
  00 00 0007                            # AF_UNSPEC, queue 7
  0c00 0200                             # NFQA_VERDICT_HDR, nla_len 12
  00000001 00000001                     # verdict NF_ACCEPT, id 1
`;

// The kernel's answer to a verdict for id 999: NLMSG_ERROR -ENOENT, not capped, so the
// whole request is echoed.
const VERDICT_ENOENT = `
  34000000 0200 0000 05000000 203f0000  # len 52, NLMSG_ERROR, flags 0, seq 5
  feffffff                              # -2 (ENOENT)
  20000000 01030100 05000000 00000000   # the verdict's header …
  00000007 0c000200 00000001 000003e7   # … and its body: ACCEPT id 999
`;

const hex = (text: string) => toHex(fromHex(text));

Deno.test("encodeNfqConfig() builds the BIND command byte for byte", () => {
  const bytes = encodeNfqConfig(
    { queue: 7, seq: 1, command: { command: NFQNL_CFG_CMD_BIND, pf: 0 } },
    LE,
  );
  assertEquals(toHex(bytes), hex(BIND));
});

Deno.test("encodeNfqConfig() builds copy parameters and the queue length byte for byte", () => {
  const bytes = encodeNfqConfig(
    { queue: 7, seq: 2, params: { copyMode: NFQNL_COPY_PACKET, copyRange: 64 }, maxLen: 100 },
    LE,
  );
  assertEquals(toHex(bytes), hex(PARAMS));
});

Deno.test("encodeNfqConfig() sends NFQA_CFG_MASK before NFQA_CFG_FLAGS (the kernel needs both)", () => {
  const bytes = encodeNfqConfig({ queue: 0x0102, seq: 9, flags: NFQA_CFG_F_FAIL_OPEN }, LE);
  assertEquals(
    toHex(bytes),
    hex(`
      24000000 0203 0500 09000000 00000000  # len 36, CONFIG, REQUEST|ACK, seq 9
      00 00 0102                            # queue 258, big-endian
      0800 0400 00000001                    # NFQA_CFG_MASK  FAIL_OPEN
      0800 0500 00000001                    # NFQA_CFG_FLAGS FAIL_OPEN
    `),
  );
});

Deno.test("encodeNfqConfig() writes big-endian headers when asked (byte-order parameter)", () => {
  const bytes = encodeNfqConfig(
    { queue: 7, seq: 1, command: { command: NFQNL_CFG_CMD_BIND, pf: 0 } },
    false,
  );
  assertEquals(
    toHex(bytes),
    hex("0000001c 0302 0005 00000001 00000000 00000007 0008 0001 01000000"),
  );
});

Deno.test("the kernel's ACK of a config request classifies as ack", () => {
  const [message] = splitNlMessages(fromHex(PARAMS_ACK), LE);
  assertEquals(classifyNlMessage(message, LE).kind, "ack");
});

Deno.test("decodeNfqPacket() reads the captured packet: queue, id, protocol, hook, payload", () => {
  const [message] = splitNlMessages(fromHex(PACKET), LE);
  assertEquals(message.header.type, NFQ_MSG_PACKET);
  const p = decodeNfqPacket(message, LE);
  assertEquals(p.queue, 7);
  assertEquals(p.id, 1);
  assertEquals(p.hwProtocol, 0x0800);
  assertEquals(p.hook, NF_INET_LOCAL_OUT);
  assertEquals(p.outdev, 2);
  assertEquals(p.indev, undefined);
  assertEquals(p.capLen, undefined); // not cut: 36 bytes < copy_range 64
  assertEquals(p.payload?.length, 36);
  assertEquals(p.payload?.[9], 1); // IP protocol ICMP
  assertEquals(toHex(p.payload!.subarray(28)), "ab00000000000000");
});

Deno.test("encodeNfqVerdict() builds the captured ACCEPT byte for byte", () => {
  const bytes = encodeNfqVerdict({ queue: 7, id: 1, verdict: NF_ACCEPT }, LE);
  assertEquals(toHex(bytes), hex(VERDICT));
});

Deno.test("encodeNfqVerdict() adds NFQA_MARK after the verdict header", () => {
  const bytes = encodeNfqVerdict(
    { queue: 7, id: 0x01020304, verdict: NF_DROP, seq: 3, mark: 0xdead },
    LE,
  );
  assertEquals(
    toHex(bytes),
    hex(`
      28000000 0103 0100 03000000 00000000  # len 40, VERDICT, REQUEST, seq 3
      00 00 0007
      0c00 0200 00000000 01020304           # verdict NF_DROP, id 0x01020304
      0800 0300 0000dead                    # NFQA_MARK
    `),
  );
});

Deno.test("a verdict for an unknown id comes back as ENOENT naming the verdict request", () => {
  const [message] = splitNlMessages(fromHex(VERDICT_ENOENT), LE);
  const reply = classifyNlMessage(message, LE);
  assert(reply.kind === "error");
  assertEquals(reply.errno, 2);
  assertEquals(reply.request?.type, NFQ_MSG_VERDICT);
  assertEquals(reply.request?.seq, 5);
});

Deno.test("struct kinds round-trip and refuse a wrong size (badlen)", () => {
  const ctx = { littleEndian: LE, at: 100 };
  const hdr = { id: 0xfffffffe, hwProtocol: 0x86dd, hook: 4 };
  assertEquals(packetHdrKind.decode(packetHdrKind.encode(hdr, LE), ctx), hdr);
  const v = { verdict: NF_ACCEPT, id: 42 };
  assertEquals(verdictHdrKind.decode(verdictHdrKind.encode(v, LE), ctx), v);
  const params = { copyRange: 0xffff, copyMode: NFQNL_COPY_PACKET };
  assertEquals(configParamsKind.decode(configParamsKind.encode(params, LE), ctx), params);
  const error = assertThrows(() => packetHdrKind.decode(new Uint8Array(8), ctx), DecodeError);
  assertEquals(error.reason, "badlen");
  assertEquals(error.offset, 100);
});

Deno.test("decodeNfqPacket() errors: another type (badtype), no packet header (badval), short header (badlen)", () => {
  const [config] = splitNlMessages(fromHex(BIND), LE);
  assertEquals(config.header.type, NFQ_MSG_CONFIG);
  assertEquals(assertThrows(() => decodeNfqPacket(config, LE), DecodeError).reason, "badtype");
  const noHdr = fromHex("1c000000 00030000 00000000 00000000 02000007 08000600 00000002");
  const [m1] = splitNlMessages(noHdr, LE);
  assertEquals(assertThrows(() => decodeNfqPacket(m1, LE), DecodeError).reason, "badval");
  // NFQA_PACKET_HDR of 6 bytes instead of 7.
  const short = fromHex("1e000000 00030000 00000000 00000000 02000007 0a000100 00000001 0800");
  const [m2] = splitNlMessages(short, LE);
  const error = assertThrows(() => decodeNfqPacket(m2, LE), DecodeError);
  assertEquals(error.reason, "badlen");
  assertEquals(error.offset, 24); // the payload of the attribute at offset 20
});

Deno.test("drawDelay() is uniform over [base - jitter, base + jitter] and clamped at 0", () => {
  assertEquals(drawDelay(50, 50, () => 0), 0);
  assertEquals(drawDelay(50, 50, () => 0.5), 50);
  assertEquals(drawDelay(50, 50, () => 0.75), 75);
  assertEquals(drawDelay(10, 50, () => 0), 0); // 10 - 50 clamped
  assertEquals(drawDelay(30, 0, () => 0.123), 30);
});

Deno.test("DelaySchedule releases ids in due order, only those due, ties included", () => {
  const schedule = new DelaySchedule();
  assertEquals(schedule.next(), undefined);
  // Release times of a jittered burst, pushed in arrival order (ids 1…).
  const dues = [57, 3, 91, 3, 44, 100, 12, 76, 12, 0, 65, 29];
  dues.forEach((due, i) => schedule.push(due, i + 1));
  assertEquals(schedule.size, 12);
  assertEquals(schedule.next(), 0);
  assertEquals(schedule.popDue(-1), []);
  assertEquals(schedule.popDue(12).map(([due]) => due), [0, 3, 3, 12, 12]);
  assertEquals(schedule.next(), 29);
  schedule.push(1, 99); // a packet due before everything still held
  const rest = schedule.popDue(Infinity);
  assertEquals(rest.map(([due]) => due), [1, 29, 44, 57, 65, 76, 91, 100]);
  assertEquals(rest.map(([, id]) => id), [99, 12, 5, 1, 11, 8, 3, 6]);
  assertEquals(schedule.size, 0);
});

Deno.test("DelaySchedule: every pop is sorted, holds only due entries and leaves none due", () => {
  const schedule = new DelaySchedule();
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let released = 0;
  for (let round = 0; round < 50; round++) {
    for (let k = 0; k < 40; k++) schedule.push(round * 10 + random() * 100, k);
    const now = round * 10;
    const dues = schedule.popDue(now).map(([due]) => due);
    released += dues.length;
    for (let i = 0; i < dues.length; i++) {
      assert(dues[i] <= now, `round ${round}: ${dues[i]} released before it was due`);
      assert(i === 0 || dues[i] >= dues[i - 1], `round ${round}: out of order`);
    }
    const next = schedule.next();
    assert(next === undefined || next > now, `round ${round}: ${next} left behind`);
  }
  released += schedule.popDue(Infinity).length;
  assertEquals(released, 2000);
});

Deno.test("fnv1a() matches the published FNV-1a 32-bit vectors; ipPayload() skips the IP header", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assertEquals(fnv1a(text("")), 0x811c9dc5);
  assertEquals(fnv1a(text("a")), 0xe40c292c);
  assertEquals(fnv1a(text("foobar")), 0xbf9cf968);
  const [message] = splitNlMessages(fromHex(PACKET), LE);
  const ip = decodeNfqPacket(message, LE).payload!;
  assertEquals(ipPayload(ip).length, 16); // 36 - 20-byte header
  assertEquals(ipPayload(ip)[0], 8); // ICMP type echo request
  const notIp = fromHex("60000000");
  assertEquals(ipPayload(notIp), notIp);
});

Deno.test("parseArgs() reads the options and refuses unknown or negative ones", () => {
  assertEquals(parseArgs(["--queue", "7", "--base", "20", "--jitter", "5", "--loss", "10"]), {
    queue: 7,
    base: 20,
    jitter: 5,
    loss: 10,
    maxLen: 10_000,
    copy: 64,
  });
  assertThrows(() => parseArgs(["--delay", "5"]));
  assertThrows(() => parseArgs(["--base", "-1"]));
  assertThrows(() => parseArgs(["--base"]));
});
