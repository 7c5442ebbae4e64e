/**
 * Newline framing over a byte stream with a hard cap per line. The cap is
 * checked while bytes arrive, so a peer that never sends a newline costs at
 * most `maxBytes` of memory before it is cut off.
 */

export class LineTooLongError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`line exceeds ${limit} bytes`);
    this.name = "LineTooLongError";
    this.limit = limit;
  }
}

const NEWLINE = 0x0a;

/**
 * Yields each line (without its newline) read from `source`. A final line
 * without a newline is yielded too. Throws LineTooLongError once a line grows
 * past `maxBytes`.
 */
export async function* readLines(
  source: ReadableStream<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = source.getReader();
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  const take = (tail: Uint8Array): string => {
    const parts = [...pending, tail];
    const joined = new Uint8Array(pendingLength + tail.length);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    pending = [];
    pendingLength = 0;
    return decoder.decode(joined);
  };
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      let index: number;
      while ((index = value.indexOf(NEWLINE, start)) !== -1) {
        if (pendingLength + index - start > maxBytes) throw new LineTooLongError(maxBytes);
        yield take(value.subarray(start, index));
        start = index + 1;
      }
      const rest = value.subarray(start);
      if (pendingLength + rest.length > maxBytes) throw new LineTooLongError(maxBytes);
      if (rest.length > 0) {
        // Copy: the stream may reuse its buffer for the next chunk.
        pending.push(rest.slice());
        pendingLength += rest.length;
      }
    }
    if (pendingLength > 0) yield take(new Uint8Array(0));
  } finally {
    reader.releaseLock();
  }
}
