/**
 * pcap: `decodePcap` (may throw only DecodeError, and only for the file
 * header: a damaged record ends the file as `truncated`), then what
 * `pfsyncd decode` does with every record — `inspectFrame` (documented never
 * to throw), `renderPacket`, and `packetJson` through `JSON.stringify`.
 */
import { DecodeError } from "../../../lib/bytes/errors.ts";
import { encodeEthernetHeader } from "../../../lib/net/ethernet.ts";
import { parseAddress } from "../../../lib/net/address.ts";
import {
  decodePcap,
  encodePcap,
  inspectFrame,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  PCAP_FILE_HEADER_LENGTH,
  PCAP_RECORD_HEADER_LENGTH,
} from "../../../lib/pcap/mod.ts";
import { PfsyncAuth } from "../../../lib/pfsync/auth.ts";
import { packetJson, renderPacket } from "../../../lib/cli/decode.ts";
import { trimmedCaptures } from "../corpus/mod.ts";
import type { Rng } from "../prng.ts";
import { type FuzzInstance, type FuzzTarget, invariant } from "../target.ts";
import { carpTarget } from "./carp.ts";
import { PFSYNC_FUZZ_KEY, pfsyncTarget } from "./pfsync.ts";

const MAC_A = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0a);

function ethernet(ip: Uint8Array, vlan = false): Uint8Array {
  const v6 = ip[0] >> 4 === 6;
  const dst = v6
    ? Uint8Array.of(0x33, 0x33, 0, 0, 0, 0x12)
    : Uint8Array.of(0x01, 0x00, 0x5e, 0, 0, ip[9] === 112 ? 0x12 : 0xf0);
  const header = encodeEthernetHeader({
    destination: dst,
    source: MAC_A,
    etherType: vlan ? 0x8100 : v6 ? 0x86dd : 0x0800,
  });
  const tag = vlan ? Uint8Array.of(0x00, 0x0a, ...(v6 ? [0x86, 0xdd] : [0x08, 0x00])) : undefined;
  const out = new Uint8Array(header.length + (tag?.length ?? 0) + ip.length);
  out.set(header);
  if (tag) out.set(tag, header.length);
  out.set(ip, header.length + (tag?.length ?? 0));
  return out;
}

function sll2(ip: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + ip.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, ip[0] >> 4 === 6 ? 0x86dd : 0x0800);
  view.setUint32(4, 3);
  view.setUint16(8, 1);
  out[10] = 2; // multicast
  out[11] = 6;
  out.set(MAC_A, 12);
  out.set(ip, 20);
  return out;
}

function sll(ip: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + ip.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 4); // outgoing
  view.setUint16(2, 1);
  view.setUint16(4, 6);
  out.set(MAC_A, 6);
  view.setUint16(14, 0x0800);
  out.set(ip, 16);
  return out;
}

function seeds(): Uint8Array[] {
  const packets = [...carpTarget.seeds(), ...pfsyncTarget.seeds()].filter((p) =>
    p.length > 0 && (p[0] >> 4 === 4 || p[0] >> 4 === 6)
  );
  const at = (i: number) => ({ seconds: 1_700_000_000 + i, nanos: i * 1_000_123 });
  const records = (frames: Uint8Array[]) => frames.map((data, i) => ({ ...at(i), data }));
  // Small files (six frames each) over every link type: mutations stay focused and fast.
  const files: Uint8Array[] = [];
  for (let i = 0, n = 0; i < packets.length; i += 6, n++) {
    const chunk = packets.slice(i, i + 6);
    const v4 = chunk.filter((p) => p[0] >> 4 === 4);
    switch (n % 5) {
      case 0:
        files.push(
          encodePcap({ linktype: LINKTYPE_ETHERNET }, records(chunk.map((p) => ethernet(p)))),
        );
        break;
      case 1:
        files.push(encodePcap(
          { linktype: LINKTYPE_ETHERNET, littleEndian: false, resolution: "ns" },
          records(chunk.map((p) => ethernet(p, true))),
        ));
        break;
      case 2:
        files.push(encodePcap({ linktype: LINKTYPE_LINUX_SLL2 }, records(chunk.map(sll2))));
        break;
      case 3:
        files.push(encodePcap({ linktype: LINKTYPE_LINUX_SLL }, records(v4.map(sll))));
        break;
      default:
        files.push(encodePcap({ linktype: LINKTYPE_RAW, resolution: "ns" }, records(chunk)));
    }
  }
  return [...files, ...trimmedCaptures()];
}

/** Re-fits record length fields to the bytes that follow (so mutations reach the frames). */
function repair(input: Uint8Array, rng: Rng): Uint8Array {
  if (input.length < PCAP_FILE_HEADER_LENGTH) return input;
  const out = input.slice();
  const view = new DataView(out.buffer);
  const le = view.getUint32(0, true) === 0xa1b2c3d4 || view.getUint32(0, true) === 0xa1b23c4d;
  let at = PCAP_FILE_HEADER_LENGTH;
  while (out.length - at >= PCAP_RECORD_HEADER_LENGTH) {
    const left = out.length - at - PCAP_RECORD_HEADER_LENGTH;
    let length = view.getUint32(at + 8, le);
    if (length > left) {
      length = rng.int(left + 1);
      view.setUint32(at + 8, length, le);
    }
    view.setUint32(at + 4, view.getUint32(at + 4, le) % 1_000_000, le);
    at += PCAP_RECORD_HEADER_LENGTH + length;
  }
  return out;
}

function createInspector(block: number): FuzzInstance {
  // One authenticator per block: its replay window is state shared across packets, like the CLI's.
  const auth = new PfsyncAuth({
    key: PFSYNC_FUZZ_KEY,
    mode: block % 2 ? "optional" : "required",
  });
  const vips = [
    { vhid: 7, address: parseAddress("10.99.0.100")!.address },
    { address: parseAddress("192.0.2.100")!.address },
    { address: parseAddress("2001:db8::100")!.address },
  ];
  return {
    run(input: Uint8Array): string {
      let file;
      try {
        file = decodePcap(input);
      } catch (error) {
        if (error instanceof DecodeError) return error.reason;
        throw error;
      }
      invariant(
        file.records.every((r, i) => r.index === i + 1 && r.nanos >= 0 && r.nanos < 1e9),
        "record numbering or timestamps out of range",
      );
      let packets = 0;
      for (const record of file.records) {
        const result = inspectFrame(file.header.linktype, record, {
          pass: block % 3 === 0 ? undefined : "secret",
          vips,
          auth,
        });
        if (result.kind !== "packet") continue;
        packets++;
        renderPacket(result.report, file.header.resolution);
        JSON.stringify(packetJson(result.report, file.header.resolution));
      }
      return file.truncated
        ? `truncated:${file.truncated.reason}`
        : packets > 0
        ? "packets"
        : "none";
    },
  };
}

export const pcapTarget: FuzzTarget = {
  name: "pcap",
  covers: "decodePcap, decodeLinkFrame, inspectFrame, renderPacket, packetJson",
  kind: "bytes",
  seeds,
  repair,
  create: createInspector,
};
