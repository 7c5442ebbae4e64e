import { assertEquals } from "../helpers/assert.ts";
import { fromHex } from "../../lib/bytes/mod.ts";
import {
  CarpAuthenticator,
  countReceived,
  encodeCarpHeader,
  newCarpStats,
  readCarpHeader,
  type ReceivedPacket,
  type ReceiverVhost,
  validateCarpPacket,
} from "../../lib/carp/mod.ts";
import { parseAddress } from "../../lib/net/mod.ts";

const ip = (text: string) => parseAddress(text)!.address;

// Spec §2.5 vector 1 (ucarp capture): vhid 7, pass "secret", VIP 10.99.0.100.
const CAPTURE = fromHex(
  "21 07 00 07 00 01 9125 661ed545 007d1762 7651c15f02b840f279b06e06f4cbb0a8fac9f736",
);

function edited(edit: (b: Uint8Array) => void, fixChecksum = true): Uint8Array {
  const b = CAPTURE.slice();
  edit(b);
  return fixChecksum ? encodeCarpHeader(readCarpHeader(b)) : b;
}

function vhost(vhid: number, parent: string, running = true): ReceiverVhost {
  const auth = new CarpAuthenticator("secret", vhid, [ip("10.99.0.100")], "configured");
  return { vhid, parent, running, verify: (c, h) => auth.verify(c, h) };
}

const VHOSTS = [vhost(7, "eth1"), vhost(9, "eth1", false), vhost(7, "eth2")];

function packet(overrides: Partial<ReceivedPacket> = {}): ReceivedPacket {
  return {
    family: 4,
    ttl: 255,
    iface: "eth1",
    source: ip("10.99.0.1"),
    payload: CAPTURE,
    ...overrides,
  };
}

interface Case {
  name: string;
  packet: ReceivedPacket;
  allow?: boolean;
  expected: string;
}

// Rows go down spec §1.5; each packet also breaks every later rule, to prove the order.
const CASES: Case[] = [
  {
    name: "1 allow=0 drops before anything is looked at",
    packet: packet({ ttl: 1, payload: new Uint8Array(3) }),
    allow: false,
    expected: "ignored disabled",
  },
  {
    name: "own source address: our echo, ignored",
    packet: packet({ source: ip("10.99.0.5"), ttl: 1 }),
    expected: "ignored own",
  },
  {
    name: "2 interface without vhids: badif, before TTL",
    packet: packet({ iface: "eth0", ttl: 1, payload: new Uint8Array(3) }),
    expected: "badif",
  },
  {
    name: "3 TTL 254: badttl, before length",
    packet: packet({ ttl: 254, payload: new Uint8Array(3) }),
    expected: "badttl",
  },
  {
    name: "3 IPv6 hop limit 1: badttl",
    packet: packet({ family: 6, ttl: 1, source: ip("2001:db8::2") }),
    expected: "badttl",
  },
  {
    name: "4 35 bytes: badlen, before checksum",
    packet: packet({ payload: CAPTURE.subarray(0, 35) }),
    expected: "badlen",
  },
  {
    name: "5 checksum wrong: badsum, before vhid and version",
    packet: packet({ payload: edited((b) => (b[0] = 0x31, b[1] = 99), false) }),
    expected: "badsum",
  },
  {
    name: "6 unknown vhid: badvhid, before version",
    packet: packet({ payload: edited((b) => (b[0] = 0x31, b[1] = 8)) }),
    expected: "badvhid",
  },
  {
    name: "6 vhid configured but not running: badvhid",
    packet: packet({ payload: edited((b) => b[1] = 9) }),
    expected: "badvhid",
  },
  {
    name: "7 version 3: badver, before HMAC",
    packet: packet({ payload: edited((b) => (b[0] = 0x31, b[16] ^= 1)) }),
    expected: "badver",
  },
  {
    name: "8 HMAC flipped: badauth",
    packet: packet({ payload: edited((b) => b[20] ^= 0x80) }),
    expected: "badauth",
  },
  {
    name: "8 counter changed: badauth (the counter is authenticated)",
    packet: packet({ payload: edited((b) => b[15]++) }),
    expected: "badauth",
  },
  {
    name: "9 the captured packet is accepted for vhid 7 on eth1",
    packet: packet(),
    expected: "accepted 7@eth1",
  },
  {
    name: "9 the same vhid on another interface is a different vhost",
    packet: packet({ iface: "eth2" }),
    expected: "accepted 7@eth2",
  },
  {
    name: "9 advskew is not authenticated: a changed advskew still passes",
    packet: packet({ payload: edited((b) => b[2] = 200) }),
    expected: "accepted 7@eth1",
  },
];

Deno.test("validateCarpPacket() applies spec §1.5 in kernel order", () => {
  for (const c of CASES) {
    const outcome = validateCarpPacket(c.packet, {
      allow: c.allow ?? true,
      vhosts: VHOSTS,
      ownAddresses: [ip("10.99.0.5"), ip("2001:db8::5")],
    });
    const got = outcome.kind === "accepted"
      ? `accepted ${outcome.vhost.vhid}@${outcome.vhost.parent}`
      : outcome.kind === "ignored"
      ? `ignored ${outcome.why}`
      : outcome.counter;
    assertEquals(got, c.expected, c.name);
  }
});

Deno.test("countReceived() counts ipackets for everything and the named drop once", () => {
  const stats = newCarpStats();
  const context = { allow: true, vhosts: VHOSTS, ownAddresses: [ip("10.99.0.5")] };
  const packets = [
    packet(),
    packet({ ttl: 254 }),
    packet({ ttl: 254 }),
    packet({ source: ip("10.99.0.5") }),
    packet({ family: 6, ttl: 64, source: ip("2001:db8::2") }),
  ];
  for (const p of packets) countReceived(stats, p.family, validateCarpPacket(p, context));
  assertEquals(
    [stats.ipackets, stats.ipackets6, stats.badttl, stats.ownpackets, stats.badauth],
    [4, 1, 3, 1, 0],
  );
});
