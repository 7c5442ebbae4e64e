/**
 * The captured-traffic corpus (recorded by capture.ts from real agents and
 * ucarp): the pcap files themselves, and the IP datagrams inside them, by
 * protocol, to seed the CARP and pfsync fuzzers next to the spec vectors.
 */
import { decodeLinkFrame, decodePcap, encodePcap } from "../../../lib/pcap/mod.ts";
import { toHex } from "../../../lib/bytes/hex.ts";

const DIR = new URL("./", import.meta.url);
export const CAPTURES = ["carp_lan.pcap", "pfsync_link.pcap"] as const;

let files: Uint8Array[] | undefined;

/** The capture files as recorded. */
export function captureFiles(): Uint8Array[] {
  files ??= CAPTURES.map((name) => {
    try {
      return Deno.readFileSync(new URL(name, DIR));
    } catch (error) {
      throw new Error(
        `fuzz corpus ${name} is missing (record it with tests/fuzz/corpus/capture.ts; ` +
          `.gitignore must keep !tests/fuzz/corpus/*.pcap): ${(error as Error).message}`,
      );
    }
  });
  return files;
}

/** Each file cut to its first `records` records (small seeds mutate faster). */
export function trimmedCaptures(records = 6): Uint8Array[] {
  return captureFiles().map((bytes) => {
    const file = decodePcap(bytes);
    return encodePcap(
      { linktype: file.header.linktype, resolution: file.header.resolution },
      file.records.slice(0, records).map((r) => ({
        seconds: r.seconds,
        nanos: r.nanos,
        data: r.data,
        originalLength: r.originalLength,
      })),
    );
  });
}

/**
 * Distinct IP datagrams (IPv4 or IPv6, link layer stripped) carrying IP
 * protocol `protocol`, at most `limit`, in capture order.
 */
export function capturedDatagrams(protocol: number, limit = 24): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const bytes of captureFiles()) {
    const file = decodePcap(bytes);
    for (const record of file.records) {
      const ip = decodeLinkFrame(file.header.linktype, record.data).payload;
      const proto = ip[0] >> 4 === 4 ? ip[9] : ip[0] >> 4 === 6 ? ip[6] : -1;
      if (proto !== protocol) continue;
      // Same header fields and length: one is enough (the periodic adverts repeat).
      const key = toHex(ip.subarray(ip[0] >> 4 === 4 ? 20 : 40).subarray(0, 8)) + ip.length;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(ip.slice());
      if (out.length >= limit) return out;
    }
  }
  return out;
}
