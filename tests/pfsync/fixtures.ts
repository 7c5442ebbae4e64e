/** Shared values of spec pfsync.md §13 and small builders for the pfsync tests. */
import type { State, StatePeer } from "../../lib/state/types.ts";

export const HOST_A = 0x0badcafe;
export const ID1 = 0x4a5b6c7d00000001n;
export const ID2 = 0x4a5b6c7d00000002n;

/** V3 record 1 peers (also V5's). */
export const V3_SRC1: StatePeer = {
  seqlo: 0x11223344,
  seqhi: 0x1122a344,
  seqdiff: 0,
  maxWin: 65535,
  mss: 1460,
  state: 4,
  wscale: 0,
};
export const V3_DST1: StatePeer = {
  seqlo: 0xaabbccdd,
  seqhi: 0xaabc0cdd,
  seqdiff: 0,
  maxWin: 5840,
  mss: 1380,
  state: 4,
  wscale: 0,
};

/** The V5 state: outbound NAT 192.168.0.10:34567 → 10.0.0.254:55000 → 198.51.100.7:80. */
export const V5_STATE: State = {
  id: ID1,
  creatorId: HOST_A,
  ifname: "fxp0",
  lan: { addr: "192.168.0.10", port: 34567 },
  gwy: { addr: "10.0.0.254", port: 55000 },
  ext: { addr: "198.51.100.7", port: 80 },
  src: V3_SRC1,
  dst: V3_DST1,
  rtAddr: "0.0.0.0",
  rule: 3,
  anchor: 0xffffffff,
  natRule: 0,
  creation: 120,
  expire: 0,
  packets: [10, 8],
  bytes: [1200, 5400],
  af: 2,
  proto: 6,
  direction: 2,
  log: 0,
  allowOpts: 0,
  timeout: 2,
  syncFlags: 0,
  updates: 0,
};

export const V1 = "0200080100000000000000000000000000000000";
export const V2 = "020009000badcafe000000000100000000000000";
export const V2B = "020009000badcafe000000030200000000000000";
export const V3 = `
0000  02 00 04 02 4a 5b 6c 7d 00 00 00 01 00 00 00 00
0010  00 00 00 00 11 22 33 44 11 22 a3 44 00 00 00 00
0020  ff ff 05 b4 04 00 00 00 00 00 00 00 00 00 00 00
0030  00 00 00 00 aa bb cc dd aa bc 0c dd 00 00 00 00
0040  16 d0 05 64 04 00 00 00 00 00 00 00 0b ad ca fe
0050  00 00 00 00 02 00 00 00 00 00 00 00 4a 5b 6c 7d
0060  00 00 00 02 00 00 00 00 00 00 00 00 01 02 03 04
0070  01 02 13 04 00 00 10 00 80 00 00 00 09 00 00 00
0080  00 00 00 00 00 00 00 00 00 00 00 00 05 06 07 08
0090  05 06 17 08 00 00 00 00 40 00 00 00 0a 00 00 00
00a0  00 00 00 00 0b ad ca fe 00 00 00 00 04 03 00 00
00b0  00 00 00 00`;
export const V4 = "020005014a5b6c7d000000020badcafe00000000";
export const V5 = `
0000  02 00 01 01 4a 5b 6c 7d 00 00 00 01 66 78 70 30
0010  00 00 00 00 00 00 00 00 00 00 00 00 c0 a8 00 0a
0020  00 00 00 00 00 00 00 00 00 00 00 00 87 07 00 00
0030  00 00 00 00 0a 00 00 fe 00 00 00 00 00 00 00 00
0040  00 00 00 00 d6 d8 00 00 00 00 00 00 c6 33 64 07
0050  00 00 00 00 00 00 00 00 00 00 00 00 00 50 00 00
0060  00 00 00 00 00 00 00 00 00 00 00 00 11 22 33 44
0070  11 22 a3 44 00 00 00 00 ff ff 05 b4 04 00 00 00
0080  00 00 00 00 00 00 00 00 00 00 00 00 aa bb cc dd
0090  aa bc 0c dd 00 00 00 00 16 d0 05 64 04 00 00 00
00a0  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00b0  00 00 00 00 00 00 00 03 ff ff ff ff 00 00 00 00
00c0  00 00 00 78 00 00 00 00 00 00 00 0a 00 00 00 08
00d0  00 00 04 b0 00 00 15 18 0b ad ca fe 02 06 02 00
00e0  00 02 00 00`;
export const V6 = "02000000000000000000000000000000000000000badcafe00000000";
export const V7 = `
0000  45 10 00 28 1c 46 40 00 ff f0 bd f7 c0 a8 fe fe
0010  e0 00 00 f0 02 00 09 00 0b ad ca fe 00 00 00 00
0020  01 00 00 00 00 00 00 00`;

/** Strips the offset column of a §13 dump so fromHex can read it. */
export function dump(text: string): string {
  return text.replace(/^\s*[0-9a-f]{4} {2}/gm, "");
}

let nextId = 1n;

/** A valid IPv4 TCP state with distinct flow and id per call. */
export function makeState(overrides: Partial<State> = {}): State {
  const n = Number(nextId++);
  return {
    ...V5_STATE,
    id: 0x1000000000000000n + BigInt(n),
    lan: { addr: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port: 1024 + (n % 60000) },
    gwy: { addr: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, port: 1024 + (n % 60000) },
    ext: { addr: "198.51.100.7", port: 80 },
    ifname: "self",
    creation: 0,
    packets: [0, 0],
    bytes: [0, 0],
    ...overrides,
  };
}
