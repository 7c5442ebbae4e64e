import { assertEquals } from "../helpers/assert.ts";
import { fromHex, toHex } from "../../lib/bytes/mod.ts";
import {
  CarpAuthenticator,
  carpHmac,
  carpHmacMessage,
  carpKey,
  type HmacOrder,
  passphraseTruncated,
} from "../../lib/carp/mod.ts";
import { parseAddress } from "../../lib/net/mod.ts";

const ip = (text: string) => parseAddress(text)!.address;

interface Vector {
  name: string;
  pass: string;
  vhid: number;
  addresses: string[];
  counter: bigint;
  order: HmacOrder;
  message: string;
  hmac: string;
}

// Spec §2.5: vector 1 from the ucarp capture, 2a–4 computed from the rules.
const VECTORS: Vector[] = [
  {
    name: "1 ucarp capture",
    pass: "secret",
    vhid: 7,
    addresses: ["10.99.0.100"],
    counter: 0x661ed545007d1762n,
    order: "configured",
    message: "02 01 07 0a630064 661ed545 007d1762",
    hmac: "7651c15f02b840f279b06e06f4cbb0a8fac9f736",
  },
  {
    name: "1 ucarp capture, second packet",
    pass: "secret",
    vhid: 7,
    addresses: ["10.99.0.100"],
    counter: 0x9357db4fd1ea4188n,
    order: "configured",
    message: "02 01 07 0a630064 9357db4f d1ea4188",
    hmac: "c7256a86b0a161482a43872a9f38f6146d3ca154",
  },
  {
    name: "1 ucarp capture, third packet",
    pass: "secret",
    vhid: 7,
    addresses: ["10.99.0.100"],
    counter: 0x6703b804a66ef252n,
    order: "configured",
    message: "02 01 07 0a630064 6703b804 a66ef252",
    hmac: "ddcf3e0fbd2755c43a572d477882a3405d22fe3e",
  },
  {
    name: "2a sorted order, configured .10 then .2",
    pass: "foo",
    vhid: 1,
    addresses: ["192.168.1.10", "192.168.1.2"],
    counter: 0x0000000100000002n,
    order: "sorted",
    message: "020101 c0a80102 c0a8010a 0000000100000002",
    hmac: "4ca6954aa58f0a704b7eaa8de6982005d580f9ac",
  },
  {
    name: "2b 5.4 configured order .10 then .2",
    pass: "foo",
    vhid: 1,
    addresses: ["192.168.1.10", "192.168.1.2"],
    counter: 0x0000000100000002n,
    order: "configured",
    message: "020101 c0a8010a c0a80102 0000000100000002",
    hmac: "1251e021db4a88ee3e25ee52f4ee37780e6bf480",
  },
  {
    name: "3 IPv4 then IPv6, whatever the configured order",
    pass: "foo",
    vhid: 1,
    addresses: ["2001:db8::1", "192.168.1.2"],
    counter: 0x0000000100000002n,
    order: "configured",
    message: "020101 c0a80102 20010db8000000000000000000000001 0000000100000002",
    hmac: "42b8f7ec6ba2586d2dd1f91ef90c4c68942ace4b",
  },
  {
    name: "4 19-byte key, the longest usable",
    pass: "abcdefghijklmnopqrs",
    vhid: 1,
    addresses: ["192.168.1.2"],
    counter: 0x0000000100000002n,
    order: "configured",
    message: "020101 c0a80102 0000000100000002",
    hmac: "4a3e4fb8ddc219ec184e22859a6c1bfb6e556191",
  },
  {
    name: "4 again: a longer passphrase is cut to its first 19 bytes",
    pass: "abcdefghijklmnopqrstuvwxyz",
    vhid: 1,
    addresses: ["192.168.1.2"],
    counter: 0x0000000100000002n,
    order: "configured",
    message: "020101 c0a80102 0000000100000002",
    hmac: "4a3e4fb8ddc219ec184e22859a6c1bfb6e556191",
  },
];

Deno.test("carpHmacMessage() and carpHmac() match every spec §2.5 vector", () => {
  for (const v of VECTORS) {
    const addresses = v.addresses.map(ip);
    assertEquals(
      toHex(carpHmacMessage(v.vhid, addresses, v.counter, v.order)),
      toHex(fromHex(v.message)),
      v.name,
    );
    assertEquals(toHex(carpHmac(v.pass, v.vhid, addresses, v.counter, v.order)), v.hmac, v.name);
  }
});

Deno.test("carpKey() keeps 19 bytes and passphraseTruncated() says when it cut", () => {
  const cases: Array<[string, string, boolean]> = [
    ["secret", "736563726574", false],
    ["abcdefghijklmnopqrs", toHex(new TextEncoder().encode("abcdefghijklmnopqrs")), false],
    ["abcdefghijklmnopqrst", toHex(new TextEncoder().encode("abcdefghijklmnopqrs")), true],
    ["", "", false],
  ];
  for (const [pass, key, cut] of cases) {
    assertEquals(toHex(carpKey(pass)), key, pass);
    assertEquals(passphraseTruncated(pass), cut, pass);
  }
});

Deno.test("carpHmacMessage() sorted order hashes duplicates once and zeroes IPv6 scope bytes", () => {
  const m = carpHmacMessage(
    3,
    [ip("2001:db8::2"), ip("10.0.0.2"), ip("2001:db8::1"), ip("10.0.0.2"), ip("9.255.255.255")],
    1n,
    "sorted",
  );
  assertEquals(
    toHex(m),
    "020103" + "09ffffff" + "0a000002" + "20010db8000000000000000000000001" +
      "20010db8000000000000000000000002" + "0000000000000001",
  );
  const scoped = ip("fe80::1");
  scoped[3] = 5; // a KAME-style embedded interface index
  assertEquals(
    toHex(carpHmacMessage(1, [scoped], 0n)),
    "020101" + "fe800000000000000000000000000001" + "0000000000000000",
  );
});

Deno.test("CarpAuthenticator.verify() accepts the capture and rejects any other pass or counter", () => {
  const hmac = fromHex("7651c15f02b840f279b06e06f4cbb0a8fac9f736");
  const good = new CarpAuthenticator("secret", 7, [ip("10.99.0.100")], "configured");
  assertEquals(good.verify(0x661ed545007d1762n, hmac), true);
  assertEquals(good.verify(0x661ed545007d1763n, hmac), false);
  assertEquals(good.verify(0x661ed545007d1762n, hmac.subarray(0, 19)), false);
  const wrong = new CarpAuthenticator("Secret", 7, [ip("10.99.0.100")], "configured");
  assertEquals(wrong.verify(0x661ed545007d1762n, hmac), false);
  const otherVip = new CarpAuthenticator("secret", 7, [ip("10.99.0.101")], "configured");
  assertEquals(otherVip.verify(0x661ed545007d1762n, hmac), false);
});
