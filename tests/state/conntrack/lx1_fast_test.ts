/**
 * lx1_fast.ts must give what the general LX1 path gives: the same flow key
 * as `ctFlowKey(stateCtKey(state))` and, whenever it takes a state at all,
 * the very bytes of `ctCreateRequest(stateToCt(state))`. States come from
 * random conntrack entries of every protocol and NAT shape, through the
 * 224-byte record as a receiver gets them.
 */
import { IPS } from "../../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtTuple } from "../../../lib/netlink/ct_types.ts";
import { CT_FLAGS_CREATE, ctCreateRequest } from "../../../lib/netlink/ctnetlink.ts";
import { ctFlowKey } from "../../../lib/netlink/ctnetlink_key.ts";
import { NLM_F_ACK } from "../../../lib/netlink/nlmsg.ts";
import {
  ctToState,
  mirrorTuple,
  stateCtKey,
  stateToCt,
  type ToCtOptions,
} from "../../../lib/state/conntrack/mapping.ts";
import {
  encodeStateCreate,
  FAST_CREATE_MAX_BYTES,
  stateFlowKey,
} from "../../../lib/state/conntrack/lx1_fast.ts";
import { decodeStateRecord, encodeStateRecord } from "../../../lib/state/record.ts";
import type { State } from "../../../lib/state/types.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";

function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(0x1a2b);
const int = (n: number) => Math.floor(next() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];

function address(v6: boolean): Uint8Array {
  const out = new Uint8Array(v6 ? 16 : 4);
  for (let i = 0; i < out.length; i++) out[i] = next() < 0.3 ? 0 : int(256);
  out[0] = v6 ? 0x20 : 10 + int(200); // never loopback
  return out;
}

function randomEntry(): CtEntry {
  const v6 = next() < 0.4;
  const proto = pick(v6 ? [6, 17, 58, 47] : [6, 17, 1, 47]);
  const icmp = proto === 1 || proto === 58;
  const orig: CtTuple = icmp
    ? {
      src: address(v6),
      dst: address(v6),
      proto,
      icmpId: int(65536),
      icmpType: proto === 1 ? pick([8, 13]) : 128,
      icmpCode: 0,
    }
    : { src: address(v6), dst: address(v6), proto, srcPort: int(65536), dstPort: int(65536) };
  let reply = mirrorTuple(orig);
  const nat = next() < 0.6 ? 0 : 1 + int(3); // 0 none, 1 SNAT, 2 DNAT, 3 both
  if (nat & 1) reply = { ...reply, dst: address(v6), ...(icmp ? {} : { dstPort: int(65536) }) };
  if (nat & 2) reply = { ...reply, src: address(v6), ...(icmp ? {} : { srcPort: int(65536) }) };
  return {
    orig,
    reply,
    id: int(2 ** 32),
    status: IPS.CONFIRMED | (next() < 0.8 ? IPS.SEEN_REPLY | IPS.ASSURED : 0),
    timeout: next() < 0.1 ? 0 : int(500_000),
    mark: next() < 0.5 ? 0 : int(2 ** 32),
    ...(next() < 0.2 ? { zone: 1 + int(65535) } : {}),
    ...(proto === 6
      ? {
        tcp: {
          state: 1 + int(9),
          wscaleOriginal: int(15),
          wscaleReply: int(15),
          flagsOriginal: { flags: int(256), mask: 0 },
          flagsReply: { flags: int(256), mask: 0 },
        },
      }
      : {}),
    ...(next() < 0.05 ? { help: { name: "ftp" } } : {}),
  };
}

/** What a receiver holds: the State after the 224-byte record. */
function received(entry: CtEntry): State {
  const state = ctToState(entry, { creatorId: 0x22, epoch: 3, ageSeconds: int(1000) });
  return decodeStateRecord(encodeStateRecord(state));
}

Deno.test("stateFlowKey() equals ctFlowKey(stateCtKey()) for 5,000 random peer states", () => {
  for (let i = 0; i < 5000; i++) {
    const state = received(randomEntry());
    const { orig, zone } = stateCtKey(state);
    assertEquals(stateFlowKey(state), ctFlowKey(orig, zone), `state ${i}`);
  }
});

Deno.test("encodeStateCreate() writes ctCreateRequest(stateToCt()) byte for byte, or declines", () => {
  const buffer = new Uint8Array(4 * FAST_CREATE_MAX_BYTES);
  let fast = 0;
  let declined = 0;
  for (let i = 0; i < 5000; i++) {
    const entry = randomEntry();
    const state = received(entry);
    const options: ToCtOptions = {
      liberal: next() < 0.7,
      helpers: next() < 0.9,
      timeoutGraceSeconds: pick([0, 45, 12.6]),
    };
    const seq = int(2 ** 32);
    const flags = next() < 0.5 ? CT_FLAGS_CREATE : CT_FLAGS_CREATE & ~NLM_F_ACK;
    const offset = 4 * int(100);
    const end = encodeStateCreate(state, options, buffer, offset, seq, flags);
    const expected = ctCreateRequest(stateToCt(state, options), seq, flags);
    if (end < 0) {
      declined++;
      // Declines only what the fast path leaves out: NAT and helpers.
      const general = stateToCt(state, options);
      assert(general.natSrc || general.natDst || general.help, `state ${i} declined needlessly`);
      continue;
    }
    fast++;
    assertEquals(buffer.slice(offset, end), expected, `state ${i}`);
  }
  assert(
    fast > 2500 && declined > 500,
    `both paths exercised (${fast} fast, ${declined} declined)`,
  );
});
