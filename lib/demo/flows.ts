/**
 * The demo's real connections (`pfsyncd demo-flows`, a hidden command, so
 * the compiled binary and the bundle carry it too):
 *
 *   demo-flows server --port P
 *       echoes every line it gets on each TCP connection
 *   demo-flows client --server ADDR --port P --connections N
 *       opens N connections one after the other, then sends a numbered line
 *       on each every 200 ms and waits for the echo
 *
 * The client prints one JSON line a connection as it opens
 * ({"event":"open","conn":i}) and a status line every 250 ms
 * ({"event":"tick","open":n,"echoes":[last echo time per connection, ms since
 * the epoch],"errors":[…]}); a reset or refused connection is an error,
 * never hidden. It runs until killed.
 */

const INTERVAL_MS = 200;
const TICK_MS = 250;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Straight to fd 1: console.log output to a pipe may sit in a buffer until exit. */
function emit(value: Record<string, unknown>): void {
  const bytes = encoder.encode(JSON.stringify({ ...value, at: Date.now() }) + "\n");
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Calls `onLine` per received line until EOF (conn.read, so the conn is not auto-closed). */
async function readLines(conn: Deno.Conn, onLine: (line: string) => void): Promise<void> {
  const buffer = new Uint8Array(4096);
  let pending = "";
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    pending += decoder.decode(buffer.subarray(0, n), { stream: true });
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
}

export async function runFlowServer(port: number): Promise<void> {
  const listener = Deno.listen({ port, hostname: "0.0.0.0" });
  emit({ event: "listening", port });
  for await (const conn of listener) {
    (async () => {
      try {
        await readLines(
          conn,
          (line) => void conn.write(encoder.encode(`${line}\n`)).catch(() => {}),
        );
      } catch { /* peer went away */ }
      try {
        conn.close();
      } catch { /* closed */ }
    })();
  }
}

export async function runFlowClient(
  server: string,
  port: number,
  connections: number,
): Promise<void> {
  const echoes: number[] = new Array(connections).fill(0);
  // The first error of each connection (a write after a reset fails every time).
  const failures = new Map<number, string>();
  const fail = (i: number, error: unknown) => {
    if (!failures.has(i)) failures.set(i, error instanceof Error ? error.message : String(error));
  };
  const conns = new Map<number, Deno.Conn>();
  for (let i = 0; i < connections; i++) {
    try {
      const conn = await Deno.connect({ hostname: server, port });
      conns.set(i, conn);
      readLines(conn, () => (echoes[i] = Date.now())).then(
        () => fail(i, "closed by the peer"),
        (error) => fail(i, error),
      );
      emit({ event: "open", conn: i });
    } catch (error) {
      fail(i, error);
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  let seq = 0;
  setInterval(() => {
    seq++;
    conns.forEach((conn, i) => {
      conn.write(encoder.encode(`conn ${i} line ${seq}\n`)).catch((error) => fail(i, error));
    });
  }, INTERVAL_MS);
  setInterval(() => {
    const errors = [...failures].map(([i, message]) => `connection ${i}: ${message}`);
    emit({ event: "tick", open: conns.size, echoes, errors });
  }, TICK_MS);
  await new Promise(() => {}); // until killed
}
