/**
 * RFC 1071 Internet checksum: the one's-complement of the one's-complement
 * sum of 16-bit big-endian words, an odd last byte padded with zero.
 * `initial` lets a caller fold in a pseudo-header sum first.
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const evenEnd = bytes.length & ~1;
  for (let i = 0; i < evenEnd; i += 2) {
    sum += (bytes[i] << 8) | bytes[i + 1];
  }
  if (evenEnd !== bytes.length) sum += bytes[evenEnd] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}

/** True when the data, checksum field included, sums to 0xffff. */
export function checksumIsValid(bytes: Uint8Array, initial = 0): boolean {
  return onesComplementSum(bytes, initial) === 0xffff;
}
