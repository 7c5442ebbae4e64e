/**
 * The pfsync identity the conntrack provider gives a kernel flow (README,
 * "State ids"): creatorid = this node's hostid; id = 64 bits, high half the
 * 32-bit FNV-1a hash of the flow's key text `zone/proto/src/dst/sport/dport/
 * icmpid/icmptype/icmpcode` (addresses in hex) XOR the boot epoch, low half
 * the kernel's CTA_ID. The expected numbers below were computed outside this
 * code base (a ten-line Python FNV-1a over the same key strings).
 */
import { parseAddress } from "../../../lib/net/address.ts";
import type { CtEntry } from "../../../lib/netlink/ct_types.ts";
import { ctTupleKey } from "../../../lib/netlink/ctnetlink.ts";
import { DEFAULT_FILTER } from "../../../lib/state/conntrack/filters.ts";
import { flowId, SyncMirror } from "../../../lib/state/conntrack/mirror.ts";
import { emptyStats } from "../../../lib/state/conntrack/stats.ts";
import { encodeStateRecord, STATE_RECORD_SIZE } from "../../../lib/state/record.ts";
import { assertEquals } from "../../helpers/assert.ts";

const ip = (text: string): Uint8Array => parseAddress(text)!.address;
const EPOCH = 0x25bf943c; // first 32 bits of a boot id
const HOSTID = 0x0a0b0c0d;

/** TCP 192.0.2.10:40000 → 198.51.100.10:7000, zone 0, CTA_ID 0x12345678. */
const TCP4: CtEntry = {
  id: 0x12345678,
  orig: {
    src: ip("192.0.2.10"),
    dst: ip("198.51.100.10"),
    proto: 6,
    srcPort: 40000,
    dstPort: 7000,
  },
  reply: {
    src: ip("198.51.100.10"),
    dst: ip("192.0.2.10"),
    proto: 6,
    srcPort: 7000,
    dstPort: 40000,
  },
  status: 0xe,
  timeout: 300,
  tcp: { state: 3 },
};

/** ICMPv6 echo 2001:db8:1::10 → 2001:db8:2::10, id 4660, zone 3, CTA_ID 0x9abcdef0. */
const ECHO6: CtEntry = {
  id: 0x9abcdef0,
  zone: 3,
  orig: {
    src: ip("2001:db8:1::10"),
    dst: ip("2001:db8:2::10"),
    proto: 58,
    icmpId: 4660,
    icmpType: 128,
    icmpCode: 0,
  },
  reply: {
    src: ip("2001:db8:2::10"),
    dst: ip("2001:db8:1::10"),
    proto: 58,
    icmpId: 4660,
    icmpType: 129,
    icmpCode: 0,
  },
  status: 0xa,
  timeout: 29,
};

/** [entry, its key text, FNV-1a 32 of the key, expected id with EPOCH]. */
const VECTORS: [string, CtEntry, string, number, bigint][] = [
  ["IPv4 TCP", TCP4, "0/6/c000020a/c633640a/40000/7000///", 0x8a57856a, 0xafe8115612345678n],
  [
    "IPv6 ICMPv6 echo in zone 3",
    ECHO6,
    "3/58/20010db8000100000000000000000010/20010db8000200000000000000000010///4660/128/0",
    0xffe58733,
    0xda5a130f9abcdef0n,
  ],
];

function mirror(epoch = EPOCH): SyncMirror {
  return new SyncMirror({
    creatorId: HOSTID,
    epoch,
    filter: DEFAULT_FILTER,
    now: () => 0,
    refreshSlackSeconds: 10,
  }, emptyStats());
}

for (const [name, entry, key, hash, id] of VECTORS) {
  Deno.test(`SyncMirror.admit() ${name}: id = (FNV-1a(key) ^ epoch) << 32 | CTA_ID`, () => {
    assertEquals(ctTupleKey(entry.orig!, entry.zone ?? 0), key);
    assertEquals(id >> 32n, BigInt((hash ^ EPOCH) >>> 0)); // the vector is self-consistent
    assertEquals(flowId(key, EPOCH, entry.id!), id);
    const state = mirror().admit(entry)!;
    assertEquals([state.creatorId, state.id], [HOSTID, id]);
    // On the wire: id[0] (offset 0) = the high half, id[1] (offset 4) = CTA_ID, creatorid at 212,
    // all big-endian.
    const record = new Uint8Array(STATE_RECORD_SIZE);
    encodeStateRecord(state, record, 0);
    const view = new DataView(record.buffer);
    assertEquals(view.getUint32(0), (hash ^ EPOCH) >>> 0);
    assertEquals(view.getUint32(4), entry.id);
    assertEquals(view.getUint32(212), HOSTID);
  });
}

Deno.test("SyncMirror ids: stable for the flow's life and across an agent restart, new after a reboot", () => {
  const m = mirror();
  const first = m.event("new", TCP4)!;
  assertEquals([first.type, first.state.id], ["insert", 0xafe8115612345678n]);
  // Updates and the delete keep the id (a later event may even lack CTA_ID).
  const update = m.event("update", { ...TCP4, id: undefined, timeout: 200 })!;
  assertEquals([update.type, update.state.id], ["update", first.state.id]);
  const gone = m.event("destroy", { orig: TCP4.orig, id: TCP4.id })!;
  assertEquals([gone.type, gone.state.id, gone.state.creatorId], [
    "delete",
    first.state.id,
    HOSTID,
  ]);
  // Agent restart, kernel table kept (same boot id): the same id again.
  assertEquals(mirror().admit(TCP4)!.id, first.state.id);
  // Reboot (another boot id): only the high half changes.
  const rebooted = mirror(0x11111111).admit(TCP4)!.id;
  assertEquals(rebooted, 0x9b46947b12345678n);
  assertEquals(rebooted & 0xffffffffn, first.state.id & 0xffffffffn);
});

Deno.test("SyncMirror ids: two flows with the same CTA_ID get different ids", () => {
  const other: CtEntry = {
    ...TCP4,
    orig: { ...TCP4.orig!, srcPort: 40001 },
    reply: { ...TCP4.reply!, dstPort: 40001 },
  };
  const m = mirror();
  const [a, b] = [m.admit(TCP4)!.id, m.admit(other)!.id];
  assertEquals(a & 0xffffffffn, b & 0xffffffffn);
  assertEquals(a === b, false);
});
