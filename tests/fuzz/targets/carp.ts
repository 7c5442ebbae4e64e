/**
 * CARP: `decodeCarpHeader` (may throw only DecodeError; what it accepts
 * re-encodes to the same 36 bytes) and the receive path of a running host,
 * `CarpHost.receiveIPv4` / `receive` → `validateCarpPacket` → the vhid's
 * election machine. A dropped or ignored packet may change nothing but
 * `ipackets(6)` and the counter it names: no vhid's machine, no demotion,
 * no send, no address change, no hook.
 */
import { DecodeError } from "../../../lib/bytes/errors.ts";
import { fromHex } from "../../../lib/bytes/hex.ts";
import { internetChecksum } from "../../../lib/bytes/checksum.ts";
import {
  CARP_HEADER_LENGTH,
  CarpAuthenticator,
  CarpHost,
  type CarpSysctls,
  decodeCarpHeader,
  DEFAULT_SYSCTLS,
  encodeCarpHeader,
} from "../../../lib/carp/mod.ts";
import type { Family } from "../../../lib/net/address.ts";
import { parseAddress } from "../../../lib/net/address.ts";
import { cidr, FakeClock, recordingPorts, vhostConfig } from "../../carp/fake_world.ts";
import type { Rng } from "../prng.ts";
import { capturedDatagrams } from "../corpus/mod.ts";
import { type FuzzInstance, type FuzzTarget, invariant } from "../target.ts";
import { checkCounters } from "./snapshot.ts";

// Spec §2.5 vector 1 as captured from ucarp: IPv4 header, then the CARP header.
const UCARP_DATAGRAM = `
  45 10 0038 ed4f 4000 ff 70 a37f 0a630001 e0000012
  21 07 00 07 00 01 9125 661ed545 007d1762 7651c15f02b840f279b06e06f4cbb0a8fac9f736`;

/** The vhids of the host under test: [vhid, parent, pass, addresses]. */
const VHOSTS: ReadonlyArray<readonly [number, string, string, readonly string[]]> = [
  [7, "eth1", "secret", ["10.99.0.100/24"]],
  [1, "eth1", "s3cret", ["192.0.2.100/24", "2001:db8::100/64"]],
  [7, "eth2", "other", ["198.51.100.100/24"]],
];
const PEER_V4 = parseAddress("10.99.0.1")!.address;
const PEER_V6 = parseAddress("fe80::1")!.address;
const OWN_V4 = parseAddress("10.99.0.2")!.address;

const AUTH = new Map(
  VHOSTS.filter(([, parent]) => parent === "eth1").map(([vhid, , pass, addrs]) => [
    vhid,
    new CarpAuthenticator(pass, vhid, addrs.map((a) => cidr(a).address), "configured"),
  ]),
);

function advert(vhid: number, advbase: number, advskew: number, counter: bigint): Uint8Array {
  return encodeCarpHeader({
    vhid,
    advbase,
    advskew,
    counter,
    hmac: AUTH.get(vhid)!.compute(counter),
  });
}

function ipv4(payload: Uint8Array, source: Uint8Array, ttl = 255): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  out.set([0x45, 0x10, 0, out.length >> 8 & 0xff, 0, 0, 0x40, 0, ttl, 112]);
  out[3] = out.length & 0xff;
  out.set(source, 12);
  out.set([224, 0, 0, 18], 16);
  new DataView(out.buffer).setUint16(10, internetChecksum(out.subarray(0, 20)));
  out.set(payload, 20);
  return out;
}

/** The harness's IPv6 framing: a 40-byte header (hop limit at 7, source at 8), then CARP. */
function ipv6(payload: Uint8Array, source: Uint8Array, hops = 255): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  out[0] = 0x60;
  out[4] = payload.length >> 8;
  out[5] = payload.length & 0xff;
  out[6] = 112;
  out[7] = hops;
  out.set(source, 8);
  out.set([0xff, 0x02, ...new Array(13).fill(0), 0x12], 24);
  out.set(payload, 40);
  return out;
}

function seeds(): Uint8Array[] {
  const ucarp = fromHex(UCARP_DATAGRAM);
  const a = advert(1, 1, 0, 0x1122334455667788n);
  const b = advert(1, 1, 100, 0x0102030405060708n);
  const bowOut = advert(1, 255, 255, 0x1122334455667799n);
  const slow = advert(7, 3, 200, 42n);
  return [
    ucarp,
    ucarp.subarray(20),
    ipv4(a, PEER_V4),
    ipv4(b, PEER_V4),
    ipv4(bowOut, PEER_V4),
    ipv4(slow, PEER_V4),
    ipv4(a, OWN_V4),
    ipv6(a, PEER_V6),
    ipv6(b, PEER_V6),
    a,
    // Real traffic: pfsyncd's own IPv4 and IPv6 advertisements and ucarp's.
    ...capturedDatagrams(112, 12),
  ];
}

/** Where the CARP header starts in an input, by its first nibble (harness framing). */
function carpOffset(input: Uint8Array): number {
  const version = input.length > 0 ? input[0] >> 4 : 0;
  if (version === 4) return (input[0] & 0x0f) * 4;
  if (version === 6) return 40;
  return 0;
}

/** Makes a mutated advertisement authentic again: vhid, version, HMAC, checksum, TTL. */
function repair(input: Uint8Array, rng: Rng): Uint8Array {
  const at = carpOffset(input);
  if (input.length < at + CARP_HEADER_LENGTH) return input;
  const out = input.slice();
  if (at === 40) out[7] = 255;
  else if (at > 0) out[8] = 255;
  const vhid = rng.pick([...AUTH.keys()]);
  out[at] = 0x21;
  out[at + 1] = vhid;
  const view = new DataView(out.buffer, at);
  out.set(AUTH.get(vhid)!.compute(view.getBigUint64(8)), at + 16);
  view.setUint16(6, 0);
  view.setUint16(6, internetChecksum(out.subarray(at, at + CARP_HEADER_LENGTH)));
  return out;
}

function sysctlsFor(block: number): CarpSysctls {
  switch (block % 4) {
    case 1:
      return { ...DEFAULT_SYSCTLS, preempt: true, log: 2 };
    case 2:
      return { ...DEFAULT_SYSCTLS, demotion: 5, senderrDemotionFactor: 1, ifdownDemotionFactor: 2 };
    case 3:
      return { ...DEFAULT_SYSCTLS, allow: block % 8 !== 3 };
    default:
      return DEFAULT_SYSCTLS;
  }
}

/** Test hook: runs between receive and the checks, to prove the checks catch a change. */
export type CarpSabotage = (host: CarpHost, accepted: boolean) => void;

export function createHost(block: number, sabotage?: CarpSabotage): FuzzInstance {
  const clock = new FakeClock();
  const host = new CarpHost(sysctlsFor(block), {
    ownAddresses: () => [OWN_V4],
    log: () => {},
  });
  const records = VHOSTS.map(([vhid, parent, pass, addrs]) => {
    const { ports, record } = recordingPorts(clock);
    host.addVhost(
      vhostConfig({
        vhid,
        parent,
        interface: parent,
        pass,
        advskew: block % 3 === 0 ? 0 : 100,
        addresses: addrs.map(cidr),
      }),
      ports,
    );
    return record;
  });
  host.start();
  // Half the blocks start as MASTER (the master-down timer ran out), half as BACKUP.
  clock.advance(block % 2 === 0 ? 500 : 4_000);

  return {
    run(input: Uint8Array): string {
      const at = carpOffset(input);
      const carp = input.subarray(at);
      let pure: string;
      try {
        const header = decodeCarpHeader(carp);
        const again = encodeCarpHeader(header);
        const same = again.every((b, i) => i === 6 || i === 7 || b === carp[i]);
        invariant(same, "decodeCarpHeader() result does not re-encode to the same header");
        pure = "ok";
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        pure = error.reason;
      }

      const before = {
        machines: host.vhosts.map((v) => v.machine),
        demotion: host.demotion,
        stats: { ...host.stats } as Record<string, number>,
        effects: records.map((r) => r.sent.length + r.actions.length + r.hooks.length),
      };
      const family: Family = at === 40 ? 6 : 4;
      const iface = input.length > 1 && input[1] & 1 ? "eth2" : "eth1";
      let outcome;
      if (at === 40) {
        if (input.length < 40) return "short-ipv6";
        outcome = host.receive({
          family: 6,
          ttl: input[7],
          iface,
          source: input.slice(8, 24),
          payload: carp,
        });
      } else if (at > 0) outcome = host.receiveIPv4(input, iface);
      else {
        outcome = host.receive({ family: 4, ttl: 255, iface, source: PEER_V4, payload: carp });
      }
      sabotage?.(host, outcome.kind === "accepted");

      let label: string;
      if (outcome.kind === "accepted") {
        invariant(pure === "ok", `host accepted what decodeCarpHeader() rejects as ${pure}`);
        label = "accepted";
      } else {
        const counter = outcome.kind === "dropped"
          ? outcome.counter
          : outcome.why === "own"
          ? "ownpackets"
          : undefined;
        label = outcome.kind === "dropped" ? outcome.counter : outcome.why;
        const allowed: Record<string, number> = { [family === 4 ? "ipackets" : "ipackets6"]: 1 };
        if (counter) allowed[counter] = (allowed[counter] ?? 0) + 1;
        checkCounters(
          `dropped (${label})`,
          before.stats,
          { ...host.stats } as Record<string, number>,
          allowed,
        );
        host.vhosts.forEach((v, i) =>
          invariant(
            v.machine === before.machines[i],
            `dropped (${label}) but vhid ${v.vhid}@${v.parent} changed state`,
          )
        );
        invariant(host.demotion === before.demotion, `dropped (${label}) but demotion changed`);
        records.forEach((r, i) =>
          invariant(
            r.sent.length + r.actions.length + r.hooks.length === before.effects[i],
            `dropped (${label}) but a vhid sent, changed addresses or ran a hook`,
          )
        );
      }
      // Time moves on between packets (outside the window checked above).
      clock.advance(input.length > 0 ? input[input.length - 1] * 4 : 10);
      return label;
    },
  };
}

export const carpTarget: FuzzTarget = {
  name: "carp",
  covers: "decodeCarpHeader, fromIPv4Datagram, validateCarpPacket, CarpHost.receive/receiveIPv4",
  kind: "bytes",
  seeds,
  repair,
  create: (block) => createHost(block),
};
