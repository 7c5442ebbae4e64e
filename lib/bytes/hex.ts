/**
 * Hex helpers for test vectors and diagnostics. `fromHex` ignores white space,
 * `|` separators and `#`-to-end-of-line comments so spec vectors can be pasted
 * with their field annotations.
 */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/#[^\n]*/g, "").replace(/[\s|:]/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-fA-F]/.test(digits)) {
    throw new Error(`fromHex: not an even run of hex digits: ${JSON.stringify(text.slice(0, 40))}`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

export function toHex(bytes: Uint8Array, separator = ""): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(separator);
}

/** `hexdump -C`-like rendering, 16 bytes a row, for test failure messages. */
export function hexDump(bytes: Uint8Array): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    rows.push(`${i.toString(16).padStart(4, "0")}  ${toHex(chunk, " ")}`);
  }
  return rows.join("\n");
}
