/**
 * `pfsyncd decode`: lib/pcap/inspect.ts on the spec vectors (carp.md §2.5,
 * pfsync.md §13) framed as Ethernet and Linux cooked captures, then the
 * command end to end (main.ts in a subprocess) for output and exit codes.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { fromHex } from "../../lib/bytes/hex.ts";
import { encodeIPv4Header } from "../../lib/net/ipv4.ts";
import { PfsyncAuth } from "../../lib/pfsync/auth.ts";
import { encodeFrame } from "../../lib/pfsync/frame.ts";
import { PFSYNC_ACT_BUS } from "../../lib/pfsync/header.ts";
import {
  encodePcap,
  inspectFrame,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  type PacketReport,
  type PcapRecord,
} from "../../lib/pcap/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

// carp.md §2.5 vector 1: ucarp, vhid 7, pass "secret", VIP 10.99.0.100.
const CARP_IP = "4510 0038 ed4f 4000 ff70 a37f 0a630001 e0000012";
const CARP_HDR = "2107 0007 0001 9125 661ed545 007d1762" +
  "7651c15f 02b840f2 79b06e06 f4cbb0a8 fac9f736";
const ETH_CARP = "01005e000012 00005e000007 0800";

// pfsync.md §13 V7: BUS START from 0x0BADCAFE as a complete IPv4 datagram.
const V7 = "45100028 1c464000 fff0bdf7 c0a8fefe e00000f0" +
  "02000900 0badcafe 00000000 01000000 00000000";
// V3: UPD_C with two records (the spec's dump, 16 bytes a line).
const V3 = "020004024a5b6c7d0000000100000000" +
  "00000000112233441122a34400000000" +
  "ffff05b4040000000000000000000000" +
  "00000000aabbccddaabc0cdd00000000" +
  "16d0056404000000000000000badcafe" +
  "0000000002000000000000004a5b6c7d" +
  "00000002000000000000000001020304" +
  "01021304000010008000000009000000" +
  "00000000000000000000000005060708" +
  "0506170800000000400000000a000000" +
  "000000000badcafe0000000004030000" +
  "00000000";

function ipv4(payload: Uint8Array, protocol: number, ttl = 255, src = [10, 0, 0, 1]): Uint8Array {
  const dst = protocol === 112 ? [224, 0, 0, 18] : [224, 0, 0, 240];
  const out = new Uint8Array(20 + payload.length);
  encodeIPv4Header({
    tos: 0x10,
    payloadLength: payload.length,
    id: 1,
    ttl,
    protocol,
    source: Uint8Array.from(src),
    destination: Uint8Array.from(dst),
  }, out);
  out.set(payload, 20);
  return out;
}

const eth = (ip: Uint8Array) => {
  const head = fromHex("01005e0000f0 020000000001 0800");
  const out = new Uint8Array(14 + ip.length);
  out.set(head);
  out.set(ip, 14);
  return out;
};

const rec = (data: Uint8Array, index = 1): PcapRecord => ({
  index,
  seconds: 1_700_000_000,
  nanos: 123_456_000,
  originalLength: data.length,
  data,
});

function packet(linktype: number, data: Uint8Array, options = {}): PacketReport {
  const result = inspectFrame(linktype, rec(data), options);
  if (result.kind !== "packet") throw new Error(`skipped: ${result.why}`);
  return result.report;
}

const checkMap = (r: PacketReport) =>
  Object.fromEntries(r.checks.map((c) => [c.name, c.ok === null ? null : c.ok]));

Deno.test("inspectFrame() the captured ucarp advertisement passes every check with its VIP", () => {
  const frame = fromHex(ETH_CARP + CARP_IP + CARP_HDR);
  const r = packet(LINKTYPE_ETHERNET, frame, {
    pass: "secret",
    vips: [{ address: Uint8Array.of(10, 99, 0, 100) }],
  });
  assertEquals(r.protocol, "carp");
  assertEquals([r.source, r.destination, r.ttl, r.length], ["10.99.0.1", "224.0.0.18", 255, 36]);
  assertEquals(r.linkSource, "00:00:5e:00:00:07");
  assertEquals(checkMap(r), {
    ipsum: true,
    ttl: true,
    len: true,
    sum: true,
    ver: true,
    hmac: true,
  });
  assertEquals(r.ok, true);
  assertEquals(
    r.summary,
    "CARP vhid 7 advbase 1 advskew 0 counter 661ed545007d1762",
  );
  assertEquals(r.fields.hmac, "7651c15f02b840f279b06e06f4cbb0a8fac9f736");
});

Deno.test("inspectFrame() CARP HMAC: wrong VIP or passphrase is badauth; none given is not checked", () => {
  const frame = fromHex(ETH_CARP + CARP_IP + CARP_HDR);
  const wrongVip = packet(LINKTYPE_ETHERNET, frame, {
    pass: "secret",
    vips: [{ address: Uint8Array.of(10, 99, 0, 101) }],
  });
  assertEquals(checkMap(wrongVip).hmac, false);
  assertEquals(wrongVip.checks.at(-1)?.reason, "badauth");
  assertEquals(wrongVip.ok, false);
  const wrongPass = packet(LINKTYPE_ETHERNET, frame, {
    pass: "Secret",
    vips: [{ address: Uint8Array.of(10, 99, 0, 100) }],
  });
  assertEquals(checkMap(wrongPass).hmac, false);
  const otherVhid = packet(LINKTYPE_ETHERNET, frame, {
    pass: "secret",
    vips: [{ vhid: 8, address: Uint8Array.of(10, 99, 0, 100) }],
  });
  assertEquals(checkMap(otherVhid).hmac, null);
  assertMatch(otherVhid.checks.at(-1)!.detail, /give --vip for vhid 7/);
  const none = packet(LINKTYPE_ETHERNET, frame);
  assertEquals(checkMap(none).hmac, null);
  assertEquals(none.ok, true);
});

Deno.test("inspectFrame() with configured vhids: badvhid for others, each vhid's own secret", () => {
  const frame = fromHex(ETH_CARP + CARP_IP + CARP_HDR);
  const vip = Uint8Array.of(10, 99, 0, 100);
  const mine = packet(LINKTYPE_ETHERNET, frame, {
    vhosts: [{ vhid: 3, pass: "x", addresses: [] }, { vhid: 7, pass: "secret", addresses: [vip] }],
  });
  assertEquals([checkMap(mine).vhid, checkMap(mine).hmac, mine.ok], [true, true, true]);
  const other = packet(LINKTYPE_ETHERNET, frame, {
    vhosts: [{ vhid: 3, pass: "secret", addresses: [vip] }],
  });
  assertEquals(checkMap(other).vhid, false);
  assertEquals(other.checks.at(-1)?.reason, "badvhid");
  assertEquals(checkMap(other).hmac, undefined); // the kernel stops at the vhid lookup
  // An address-list mismatch (one more VIP on this side) is caught as badauth.
  const mismatch = packet(LINKTYPE_ETHERNET, frame, {
    vhosts: [{ vhid: 7, pass: "secret", addresses: [vip, Uint8Array.of(10, 99, 0, 101)] }],
  });
  assertEquals([checkMap(mismatch).hmac, mismatch.checks.at(-1)?.reason], [false, "badauth"]);
});

Deno.test("inspectFrame() CARP drops in kernel order: TTL, length, checksum, version", () => {
  const carp = fromHex(CARP_HDR);
  const ttl64 = packet(LINKTYPE_ETHERNET, eth(ipv4(carp, 112, 64)));
  assertEquals(checkMap(ttl64).ttl, false);
  assertEquals(ttl64.checks.find((c) => c.name === "ttl")?.reason, "badttl");
  assertEquals(ttl64.ok, false);

  const short = packet(LINKTYPE_ETHERNET, eth(ipv4(carp.subarray(0, 30), 112)));
  assertEquals(short.error?.reason, "badlen");
  assertEquals(short.summary, "CARP (truncated)");

  const badSum = carp.slice();
  badSum[2] = 100; // advskew changed after the checksum was computed
  const r = packet(LINKTYPE_ETHERNET, eth(ipv4(badSum, 112)));
  assertEquals(r.error?.reason, "badsum");
  assertMatch(r.error!.message, /CARP checksum 0x9125 should be 0x/);
  assertEquals(checkMap(r).hmac, undefined); // a receiver stops before the HMAC

  const v3 = carp.slice();
  v3[0] = 0x31;
  v3[6] = 0x81; // keep the checksum right: 0x9125 - 0x1000
  const rv = packet(LINKTYPE_ETHERNET, eth(ipv4(v3, 112)));
  assertEquals([checkMap(rv).sum, rv.error?.reason], [true, "badver"]);
});

Deno.test("inspectFrame() CARP over IPv6: hop limit checked like the TTL", () => {
  const ipv6 = (hopLimit: number) =>
    fromHex(
      "33330000001202000000000186dd" + // Ethernet to 33:33:00:00:00:12, IPv6
        "60000000" + // version 6, traffic class 0, flow 0
        "0024" + "70" + hopLimit.toString(16).padStart(2, "0") + // payload 36, next header 112
        "fe800000000000000000000000000001" + // source fe80::1
        "ff020000000000000000000000000012" + // destination ff02::12
        CARP_HDR,
    );
  const r = packet(LINKTYPE_ETHERNET, ipv6(255));
  assertEquals([r.family, r.source, r.destination, r.length], [6, "fe80::1", "ff02::12", 36]);
  assertEquals(checkMap(r), { ttl: true, len: true, sum: true, ver: true, hmac: null });
  const hop = packet(LINKTYPE_ETHERNET, ipv6(1));
  assertEquals([checkMap(hop).ttl, hop.ok], [false, false]);
  // Cut by a short snaplen: still reported as CARP, with the reason, not skipped.
  const cut = packet(LINKTYPE_ETHERNET, ipv6(255).subarray(0, 14 + 40 + 20));
  assertEquals([cut.protocol, cut.family, cut.ok, cut.error?.reason], ["carp", 6, false, "badlen"]);
  assertMatch(cut.error!.message, /payload length 36 exceeds the 20 bytes captured/);
});

Deno.test("inspectFrame() a corrupt IPv4 header checksum is reported, not fatal", () => {
  const ip = fromHex(CARP_IP + CARP_HDR);
  ip[11] ^= 0xff;
  const r = packet(LINKTYPE_ETHERNET, eth(ip));
  assertEquals([checkMap(r).ipsum, checkMap(r).sum, r.ok], [false, true, false]);
});

Deno.test("inspectFrame() pfsync V7 in a Linux cooked frame: BUS START, one record line", () => {
  const sll = fromHex("0004 0001 0006 020000000001 0000 0800" + V7);
  const r = packet(LINKTYPE_LINUX_SLL, sll);
  assertEquals([r.protocol, r.direction, r.source, r.destination], [
    "pfsync",
    "Out",
    "192.168.254.254",
    "224.0.0.240",
  ]);
  assertEquals(checkMap(r), { ipsum: true, ttl: true, hdr: true });
  assertEquals(r.summary, "pfsync v2 BUS count 0 len 20");
  assertEquals(r.records.map((x) => x.text), [
    "bulk update START from creatorid 0badcafe after 0s",
  ]);
  assertEquals(r.records[0].json, { creatorid: "0badcafe", endtime: 0, status: "START" });
});

Deno.test("inspectFrame() pfsync V3 UPD_C: one line a record, peers named", () => {
  const r = packet(LINKTYPE_ETHERNET, eth(ipv4(fromHex(V3), 240)));
  assertEquals(r.ok, true);
  assertEquals(r.records.map((x) => x.text), [
    "id 4a5b6c7d00000001 creatorid 0badcafe ESTABLISHED:ESTABLISHED timeout 2 updates 0",
    "id 4a5b6c7d00000002 creatorid 0badcafe FIN_WAIT_2:TIME_WAIT timeout 4 updates 3",
  ]);
});

Deno.test("inspectFrame() pfsync errors carry the receiver's counter", () => {
  const v3 = fromHex(V3);
  const cases: [Uint8Array, string][] = [
    [v3.subarray(0, v3.length - 1), "badlen"],
    [Uint8Array.of(3, ...v3.subarray(1)), "badver"],
    [Uint8Array.of(2, 0, 10, 1, ...new Uint8Array(16)), "badact"],
    [Uint8Array.of(2, 0), "hdrops"],
  ];
  for (const [bytes, reason] of cases) {
    const r = packet(LINKTYPE_ETHERNET, eth(ipv4(bytes, 240)));
    assertEquals(r.error?.reason, reason);
    assertEquals(r.ok, false);
  }
  const ttl = packet(LINKTYPE_ETHERNET, eth(ipv4(v3, 240, 1)));
  assertEquals([checkMap(ttl).ttl, ttl.error], [false, undefined]);
});

Deno.test("inspectFrame() marks a record a receiver skips (badstate) and keeps the rest", () => {
  const v3 = fromHex(V3);
  v3[4 + 80] = 20; // record 1 timeout = PFTM_MAX
  const r = packet(LINKTYPE_ETHERNET, eth(ipv4(v3, 240)));
  assertEquals(r.records[0].problem, "badstate: timeout 20 ≥ 20");
  assertEquals(r.records[1].problem, undefined);
});

Deno.test("inspectFrame() pfsync auth trailer: ok, bad, replay, and present-but-unchecked", () => {
  const key = new TextEncoder().encode("0123456789abcdef0123");
  const sealer = new PfsyncAuth({ key, mode: "optional", now: () => 1000 });
  const frame = encodeFrame({
    action: PFSYNC_ACT_BUS,
    records: [{ creatorId: 1, endtime: 0, status: 2 }],
  }, 48);
  const sealed = sealer.seal(frame, frame.length - 48);
  const verifier = new PfsyncAuth({ key, mode: "optional" });
  const data = eth(ipv4(sealed, 240));
  assertEquals(checkMap(packet(LINKTYPE_ETHERNET, data, { auth: verifier })).auth, true);
  const again = packet(LINKTYPE_ETHERNET, data, { auth: verifier });
  assertEquals(again.checks.find((c) => c.name === "auth")?.detail, "trailer replay");
  const tampered = data.slice();
  tampered[tampered.length - 1] ^= 1;
  const other = new PfsyncAuth({ key, mode: "optional" });
  assertEquals(checkMap(packet(LINKTYPE_ETHERNET, tampered, { auth: other })).auth, false);
  const unchecked = packet(LINKTYPE_ETHERNET, data);
  assertEquals(checkMap(unchecked).auth, null);
  assertEquals(
    unchecked.summary,
    "pfsync v2 BUS count 0 len 68 (+48 trailing: auth trailer, host 0x00000000 seq 0:65536001)",
  );
});

Deno.test("inspectFrame() skips frames that are neither CARP nor pfsync", () => {
  const arp = fromHex("ffffffffffff 020000000001 0806" + "00".repeat(28));
  assertEquals(inspectFrame(LINKTYPE_ETHERNET, rec(arp)).kind, "skipped");
  const udp = eth(ipv4(new Uint8Array(8), 17));
  const r = inspectFrame(LINKTYPE_ETHERNET, rec(udp));
  assertEquals(r.kind === "skipped" ? r.why : "", "IP protocol 17");
});

// ---- the command ----

async function decode(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "main.ts", "decode", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

async function withCapture(bytes: Uint8Array, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    await Deno.writeFile(path, bytes);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

const CAPTURE = encodePcap({ linktype: LINKTYPE_ETHERNET }, [
  { seconds: 1_700_000_000, nanos: 5_000, data: fromHex(ETH_CARP + CARP_IP + CARP_HDR) },
  { seconds: 1_700_000_001, data: fromHex("ffffffffffff 020000000001 0806" + "00".repeat(28)) },
  { seconds: 1_700_000_002, data: eth(ipv4(fromHex(V3), 240, 64)) },
]);

Deno.test("pfsyncd decode prints one line a packet and one a record, with checks", async () => {
  await withCapture(CAPTURE, async (path) => {
    const r = await decode(path, "--pass", "secret", "--vip", "10.99.0.100/24");
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assertEquals(lines.length, 4);
    assertEquals(
      lines[0],
      "#1 22:13:20.000005 00:00:5e:00:00:07 10.99.0.1 > 224.0.0.18 ttl 255 " +
        "CARP vhid 7 advbase 1 advskew 0 counter 661ed545007d1762 " +
        "[ipsum ok, ttl ok, len ok, sum ok, ver ok, hmac ok]",
    );
    assertEquals(
      lines[1],
      "#3 22:13:22.000000 02:00:00:00:00:01 10.0.0.1 > 224.0.0.240 ttl 64 " +
        "pfsync v2 UPD_C count 2 len 180 [ipsum ok, ttl BAD (badttl: 64, must be 255), hdr ok] " +
        "DROPPED",
    );
    assert(lines[2].startsWith("    id 4a5b6c7d00000001 creatorid 0badcafe"), lines[2]);
    assertStringIncludes(
      r.stderr,
      "3 frames (EN10MB): 1 CARP, 1 pfsync, 1 failing a check, 1 other",
    );
  });
});

Deno.test("pfsyncd decode --json: one object a packet; --strict exits 1 on a failed check", async () => {
  await withCapture(CAPTURE, async (path) => {
    const r = await decode(path, "--json", "--strict");
    assertEquals(r.code, 1);
    const objects = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assertEquals(objects.map((o) => [o.index, o.protocol, o.ok]), [
      [1, "carp", true],
      [3, "pfsync", false],
    ]);
    assertEquals(objects[0].time, "2023-11-14T22:13:20.000005Z");
    assertEquals(objects[0].vhid, 7);
    assertEquals(objects[1].records.length, 2);
    assertEquals(objects[1].records[1].id, "4a5b6c7d00000002");
  });
});

Deno.test("pfsyncd decode -c: vhids, passphrases and addresses from the configuration", async () => {
  await withCapture(CAPTURE, async (path) => {
    const yaml = await Deno.makeTempFile({ suffix: ".yaml" });
    try {
      await Deno.writeTextFile(
        yaml,
        "carp:\n  - {vhid: 7, parent: eth0, pass: secret, addresses: [10.99.0.100/24]}\n",
      );
      const r = await decode(path, "-c", yaml, "-f", "/dev/null");
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(
        r.stdout.split("\n")[0],
        "[ipsum ok, ttl ok, len ok, sum ok, ver ok, vhid ok, hmac ok]",
      );
      await Deno.writeTextFile(
        yaml,
        "carp:\n  - {vhid: 8, parent: eth0, pass: secret, addresses: [10.99.0.100/24]}\n",
      );
      const other = await decode(path, "-c", yaml, "-f", "/dev/null");
      assertStringIncludes(
        other.stdout.split("\n")[0],
        "vhid BAD (badvhid: vhid 7 is not configured",
      );
      await Deno.writeTextFile(yaml, "carp: [\n");
      const broken = await decode(path, "-c", yaml, "-f", "/dev/null");
      assertEquals(broken.code, 1);
      assertStringIncludes(broken.stderr, "pfsyncd decode: configuration has 1 error");
    } finally {
      await Deno.remove(yaml);
    }
  });
});

Deno.test("pfsyncd decode: unreadable files exit 1 with a message, bad flags exit 2", async () => {
  await withCapture(fromHex("0a0d0d0a" + "00".repeat(28)), async (path) => {
    const r = await decode(path);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "pcapng");
    assert(!r.stderr.includes("    at "), r.stderr);
  });
  const missing = await decode("/nonexistent.pcap");
  assertEquals(missing.code, 1);
  assertStringIncludes(missing.stderr, "pfsyncd decode: /nonexistent.pcap:");
  const usage = await decode("/nonexistent.pcap", "--vip", "not-an-address");
  assertEquals(usage.code, 2);
  assertStringIncludes(usage.stderr, "is not [VHID=]ADDRESS");
});
