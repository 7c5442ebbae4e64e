export { DecodeError } from "./errors.ts";
export { ByteReader } from "./reader.ts";
export { ByteWriter } from "./writer.ts";
export { checksumIsValid, internetChecksum, onesComplementSum } from "./checksum.ts";
export { fromHex, hexDump, toHex } from "./hex.ts";
