import { encodeControlMessage, parseControlMessages } from "../../lib/sys/msghdr.ts";
import { freebsd, linux } from "../../lib/sys/platform/mod.ts";
import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import { assertEquals } from "../helpers/assert.ts";

/** IP_TTL 255 as Linux delivers it for IP_RECVTTL. */
const LINUX_TTL = fromHex(`
  1400000000000000  # cmsg_len 20 (size_t): 16-byte header + 4-byte int
  00000000          # cmsg_level IPPROTO_IP
  02000000          # cmsg_type IP_TTL
  ff000000          # data: int 255
  00000000          # pad to CMSG_ALIGN (8)
`);

/** in_pktinfo {ifindex 3, spec_dst 192.0.2.2, addr 224.0.0.240}. */
const LINUX_PKTINFO = fromHex(`
  1c00000000000000  # cmsg_len 28 = 16 + 12
  00000000          # IPPROTO_IP
  08000000          # IP_PKTINFO
  03000000 c0000202 e00000f0
  00000000          # pad to 32
`);

/** The same TTL as FreeBSD delivers it: socklen_t length, data at ALIGN(12) = 16. */
const FREEBSD_TTL = fromHex(`
  14000000          # cmsg_len 20 (socklen_t)
  00000000          # IPPROTO_IP
  41000000          # IP_RECVTTL (65) answers itself on FreeBSD
  00000000          # pad: data starts at _ALIGN(12) = 16
  ff000000
  00000000          # pad to 24
`);

Deno.test("encodeControlMessage() lays out a Linux cmsghdr byte for byte", () => {
  assertEquals(toHex(encodeControlMessage(0, 2, fromHex("ff000000"), linux)), toHex(LINUX_TTL));
});

Deno.test("encodeControlMessage() lays out a FreeBSD cmsghdr byte for byte", () => {
  assertEquals(
    toHex(encodeControlMessage(0, 65, fromHex("ff000000"), freebsd)),
    toHex(FREEBSD_TTL),
  );
});

Deno.test("parseControlMessages() walks a chain of aligned messages", () => {
  const chain = new Uint8Array([...LINUX_TTL, ...LINUX_PKTINFO]);
  assertEquals(parseControlMessages(chain, chain.length, linux), [
    { level: 0, type: 2, data: fromHex("ff000000") },
    { level: 0, type: 8, data: fromHex("03000000 c0000202 e00000f0") },
  ]);
  assertEquals(parseControlMessages(FREEBSD_TTL, FREEBSD_TTL.length, freebsd), [
    { level: 0, type: 65, data: fromHex("ff000000") },
  ]);
});

Deno.test("parseControlMessages() honours msg_controllen and stops at a malformed header", () => {
  const chain = new Uint8Array([...LINUX_TTL, ...LINUX_PKTINFO]);
  assertEquals(parseControlMessages(chain, 24, linux).length, 1, "second message cut off");
  assertEquals(parseControlMessages(chain, 0, linux), []);
  const bogus = LINUX_TTL.slice();
  bogus[0] = 0x08; // cmsg_len 8 < header size
  assertEquals(parseControlMessages(bogus, bogus.length, linux), []);
  const tooLong = LINUX_TTL.slice();
  tooLong[0] = 0x40; // cmsg_len 64 runs past the buffer
  assertEquals(parseControlMessages(tooLong, tooLong.length, linux), []);
});
