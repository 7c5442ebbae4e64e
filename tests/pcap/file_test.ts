/** lib/pcap/file.ts against hand-assembled capture files (one comment a field). */
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/hex.ts";
import { DecodeError } from "../../lib/bytes/errors.ts";
import {
  decodePcap,
  decodePcapFileHeader,
  encodePcap,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL2,
} from "../../lib/pcap/mod.ts";

/** Big-endian, microseconds (what a SPARC or a PowerPC tcpdump writes). */
const BE_US = fromHex(
  "a1b2c3d4" + // magic, microseconds, big-endian
    "0002" + "0004" + // version 2.4
    "00000000" + // thiszone
    "00000000" + // sigfigs
    "00040000" + // snaplen 262144
    "00000001" + // linktype 1 (Ethernet)
    // record 1
    "5f5e1000" + // ts seconds 1600000000
    "0007a11f" + // ts microseconds 499999
    "00000003" + // captured 3
    "0000003c" + // original 60
    "aabbcc" + // data
    // record 2
    "5f5e1001" + "00000000" + "00000001" + "00000001" + "dd",
);

/** Little-endian, nanoseconds (x86 tcpdump with --time-stamp-precision=nano). */
const LE_NS = fromHex(
  "4d3cb2a1" + // magic 0xa1b23c4d in little-endian: nanoseconds
    "0200" + "0400" + // version 2.4
    "00000000" + "00000000" +
    "ffff0000" + // snaplen 65535
    "14010000" + // linktype 276 (LINUX_SLL2)
    "00e1f505" + // ts seconds 100000000
    "ffc99a3b" + // ts nanoseconds 999999999
    "02000000" + "02000000" + // captured 2, original 2
    "0102",
);

Deno.test("decodePcapFileHeader() reads a big-endian microsecond header", () => {
  assertEquals(decodePcapFileHeader(BE_US), {
    littleEndian: false,
    resolution: "us",
    versionMajor: 2,
    versionMinor: 4,
    thiszone: 0,
    sigfigs: 0,
    snaplen: 262144,
    linktype: LINKTYPE_ETHERNET,
  });
});

Deno.test("decodePcap() returns every record with its timestamp in nanoseconds", () => {
  const file = decodePcap(BE_US);
  assertEquals(file.truncated, undefined);
  assertEquals(file.records.length, 2);
  const [a, b] = file.records;
  assertEquals([a.index, a.seconds, a.nanos, a.originalLength, toHex(a.data)], [
    1,
    1600000000,
    499999000,
    60,
    "aabbcc",
  ]);
  assertEquals([b.index, b.seconds, b.nanos, toHex(b.data)], [2, 1600000001, 0, "dd"]);
});

Deno.test("decodePcap() reads a little-endian nanosecond file", () => {
  const file = decodePcap(LE_NS);
  assertEquals(file.header.littleEndian, true);
  assertEquals(file.header.resolution, "ns");
  assertEquals(file.header.snaplen, 65535);
  assertEquals(file.header.linktype, LINKTYPE_LINUX_SLL2);
  assertEquals(file.records[0].seconds, 100000000);
  assertEquals(file.records[0].nanos, 999999999);
  assertEquals(toHex(file.records[0].data), "0102");
});

Deno.test("encodePcap() writes the same bytes it reads (both orders, both resolutions)", () => {
  const beFile = decodePcap(BE_US);
  const again = encodePcap(
    { linktype: 1, littleEndian: false, resolution: "us", snaplen: 262144 },
    beFile.records,
  );
  assertEquals(toHex(again), toHex(BE_US));
  const leFile = decodePcap(LE_NS);
  const again2 = encodePcap(
    { linktype: 276, littleEndian: true, resolution: "ns", snaplen: 65535 },
    leFile.records,
  );
  assertEquals(toHex(again2), toHex(LE_NS));
});

Deno.test("decodePcap() keeps the records before a cut-off record and reports it", () => {
  const cut = BE_US.subarray(0, BE_US.length - 1); // record 2 loses its one data byte
  const file = decodePcap(cut);
  assertEquals(file.records.length, 1);
  assert(file.truncated instanceof DecodeError);
  assertEquals(file.truncated.reason, "badlen");
  const headerCut = BE_US.subarray(0, 24 + 16 + 3 + 10); // record 2 header cut
  assertEquals(decodePcap(headerCut).records.length, 1);
  assertEquals(decodePcap(headerCut).truncated?.offset, 24 + 16 + 3);
});

Deno.test("decodePcap() refuses an absurd record length instead of allocating", () => {
  const bad = BE_US.slice();
  new DataView(bad.buffer).setUint32(24 + 8, 0x7fffffff);
  const file = decodePcap(bad);
  assertEquals(file.records.length, 0);
  assertEquals(file.truncated?.reason, "badlen");
  assertEquals(file.truncated?.offset, 32);
});

Deno.test("decodePcapFileHeader() errors: short, pcapng, unknown magic, version", () => {
  const cases: [Uint8Array, string, RegExp][] = [
    [BE_US.subarray(0, 23), "badlen", /need 24 bytes/],
    [fromHex("0a0d0d0a" + "00".repeat(20)), "badmagic", /pcapng/],
    [fromHex("12345678" + "00".repeat(20)), "badmagic", /magic 0x12345678/],
    [fromHex("a1b2c3d4" + "0001" + "0000" + "00".repeat(16)), "badver", /version 1\.0/],
  ];
  for (const [bytes, reason, message] of cases) {
    const error = assertThrows(() => decodePcapFileHeader(bytes), DecodeError);
    assertEquals(error.reason, reason);
    assert(message.test(error.message), error.message);
  }
});

Deno.test("decodePcap() rejects a microsecond field of one second or more", () => {
  const bad = BE_US.slice();
  new DataView(bad.buffer).setUint32(24 + 4, 1_000_000);
  assertEquals(decodePcap(bad).truncated?.reason, "badval");
});

Deno.test({
  name: "encodePcap() output is read by tcpdump -r",
  ignore: !(await hasTcpdump()),
  fn: async () => {
    // A 60-byte Ethernet frame carrying an ARP request.
    const frame = fromHex(
      "ffffffffffff" + "020000000001" + "0806" +
        "0001080006040001" + "020000000001" + "c0000201" + "000000000000" + "c0000202" +
        "00".repeat(18),
    );
    const path = await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await Deno.writeFile(
        path,
        encodePcap({ linktype: LINKTYPE_ETHERNET }, [{ seconds: 1, nanos: 5000, data: frame }]),
      );
      const out = await new Deno.Command("tcpdump", {
        args: ["-nn", "-r", path, "--time-stamp-precision=micro", "-tt"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assert(/^1\.000005 ARP, Request who-has 192\.0\.2\.2 tell 192\.0\.2\.1/.test(text), text);
    } finally {
      await Deno.remove(path);
    }
  },
});

async function hasTcpdump(): Promise<boolean> {
  try {
    const out = await new Deno.Command("tcpdump", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}
