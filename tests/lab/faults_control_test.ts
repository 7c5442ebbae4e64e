/**
 * Issue 8, fault 7: the control socket and the metrics endpoint refuse what
 * they should — another user (the socket is mode 0600), oversized and
 * malformed requests, idle connections piling up, abusive HTTP — with a clear
 * error each time, and the agent keeps answering and keeps its state.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import { importLines, lines } from "./fixtures/faults_common.ts";
import { pfsyncYaml, PREEMPT, syncTopology } from "./fixtures/pfsync_common.ts";
import { labTest } from "./lab.ts";
import { runCommand } from "./util.ts";

const HTTP_FIXTURE = new URL("./fixtures/faults_http.ts", import.meta.url).pathname;
const METRICS_PORT = 9734;

/** One raw exchange on the control socket: write `bytes`, read until the server closes or `lines` arrive. */
async function rawControl(
  path: string,
  bytes: Uint8Array,
  wantLines = 1,
): Promise<{ lines: Record<string, unknown>[]; closed: boolean }> {
  const conn = await Deno.connect({ transport: "unix", path });
  // conn.write may write part of a large buffer: loop until all is out (or the server closes).
  const writing = (async () => {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  })().catch(() => {});
  const decoder = new TextDecoder();
  let text = "";
  let closed = false;
  const buf = new Uint8Array(65536);
  const deadline = setTimeout(() => conn.close(), 5_000);
  try {
    while (text.split("\n").filter((l) => l.trim() !== "").length < wantLines) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) {
        closed = true;
        break;
      }
      text += decoder.decode(buf.subarray(0, n));
    }
    if (!closed) {
      // Is the connection still open? A short read with nothing to read times out.
      const probe = await Promise.race([
        conn.read(buf).then((n) => n === null ? "closed" : "data", () => "closed"),
        new Promise<string>((r) => setTimeout(() => r("open"), 200)),
      ]);
      closed = probe === "closed";
    }
  } finally {
    clearTimeout(deadline);
    await writing;
    try {
      conn.close();
    } catch { /* closed already */ }
  }
  return {
    lines: text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)),
    closed,
  };
}

const enc = (s: string) => new TextEncoder().encode(s);

labTest(
  "faults: control socket and metrics endpoint refuse other users, oversized and malformed requests",
  async (lab) => {
    const { fws: [fw1, fw2] } = await syncTopology(lab, 2);
    // The lab dir is 0700; let other users traverse (not list) it, so only the socket's mode decides.
    await Deno.chmod(lab.tmpDir, 0o711);
    const a = await startAgent(fw1, lab, {
      yaml: pfsyncYaml({ hostid: 1, advskew: 0 }) +
        `metrics: {listen: "127.0.0.1:${METRICS_PORT}"}\n`,
      sysctl: PREEMPT,
    });
    await a.waitForVhid(1, "MASTER", { timeoutMs: 15_000 });
    await importLines(a, lines(0, 500));
    const before = await a.status();
    assertEquals(before.states.count, 500);

    // 1. Other users: mode 0600, so `nobody` is refused by the kernel.
    assertEquals((await Deno.stat(a.control)).mode! & 0o777, 0o600);
    // The request goes through a shell pipe, not runCommand's stdin: nc refused at once would
    // make that write fail with EPIPE.
    const asNobody = (path: string) =>
      runCommand([
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "sh",
        "-c",
        `printf '%s\\n' '{"id":1,"method":"status","params":{}}' | nc -U -N "$0"`,
        path,
      ], { timeoutMs: 5_000 });
    const refused = await asNobody(a.control);
    assert(!refused.success, `nobody connected: ${refused.stdout}`);
    assertMatch(refused.stderr, /Permission denied/i);
    // The same call with the socket opened up (0666) works: the mode was what refused it.
    await Deno.chmod(a.control, 0o666);
    const allowed = await asNobody(a.control);
    await Deno.chmod(a.control, 0o600);
    assertMatch(allowed.stdout, /"result":\{"version"/);

    // 2. Oversized: a 2 MiB line gets request_too_large and the connection is closed.
    const big = enc(
      `{"id":7,"method":"states.import","params":{"lines":["${"x".repeat(2 * 1024 * 1024)}"]}}\n`,
    );
    const tooLarge = await rawControl(a.control, big);
    assertEquals((tooLarge.lines[0].error as { code: string }).code, "request_too_large");
    assertMatch(String((tooLarge.lines[0].error as { message: string }).message), /exceeds/);
    assert(tooLarge.closed, "connection closed after an oversized request");

    // 3. Malformed: not JSON, not an object, binary junk → an error, then the connection ends.
    for (const junk of ["{not json\n", "[1,2,3]\n", "42\n", '{"method":5}\n']) {
      const r = await rawControl(a.control, enc(junk));
      const error = r.lines[0]?.error as { code: string; message: string } | undefined;
      assert(error, `an error for ${JSON.stringify(junk)}: ${JSON.stringify(r.lines)}`);
      assert(error.message.length > 0, "the error says what was wrong");
      assert(r.closed, `connection closed after ${JSON.stringify(junk)}`);
    }
    const binary = crypto.getRandomValues(new Uint8Array(8192)).map((b) => b === 10 ? 11 : b);
    const rb = await rawControl(a.control, new Uint8Array([...binary, 10]));
    assert(rb.lines.length === 1 && rb.lines[0].error, "binary junk answered with an error");

    // 4. Well-formed but wrong: unknown method, bad params — errors, connection stays usable.
    const wrong = await rawControl(
      a.control,
      enc(
        '{"id":1,"method":"rm -rf","params":{}}\n' +
          '{"id":2,"method":"states.import","params":{"lines":5}}\n' +
          '{"id":3,"method":"demote","params":{"delta":"lots"}}\n' +
          '{"id":4,"method":"status","params":{}}\n',
      ),
      4,
    );
    const byId = new Map(wrong.lines.map((l) => [l.id, l]));
    assertEquals((byId.get(1)!.error as { code: string }).code, "unknown_method");
    assertEquals((byId.get(2)!.error as { code: string }).code, "invalid_params");
    assertEquals((byId.get(3)!.error as { code: string }).code, "invalid_params");
    assert(byId.get(4)!.result, "status on the same connection still answers");
    assert(!wrong.closed, "a well-formed bad request does not cost the connection");

    // 5. 200 idle connections do not block anyone else.
    const idle = await Promise.all(
      Array.from({ length: 200 }, () => Deno.connect({ transport: "unix", path: a.control })),
    );
    const during = await a.status();
    for (const c of idle) c.close();
    assertEquals(during.states.count, 500);

    // 6. Metrics: answers GET on loopback, refuses the rest, and is not reachable from the LAN.
    const inside = await fw1.runDeno(HTTP_FIXTURE, ["127.0.0.1", String(METRICS_PORT)]);
    assert(inside.success, inside.stderr);
    const http = JSON.parse(inside.stdout);
    assertMatch(http.metrics, /^HTTP\/1\.1 200 .*\+metrics$/);
    assertMatch(http.post, /^HTTP\/1\.1 405/);
    assertMatch(http.notFound, /^HTTP\/1\.1 404/);
    assert(!/ 200 /.test(http.hugeHeader), `a 256 KiB header was served: ${http.hugeHeader}`);
    assert(!/ 200 /.test(http.garbage), `garbage was served: ${http.garbage}`);
    assertMatch(http.hugeBody, /^HTTP\/1\.1 405|closed/);
    assertMatch(http.after, /^HTTP\/1\.1 200 .*\+metrics$/);
    const outside = await fw2.runDeno(HTTP_FIXTURE, ["192.0.2.1", String(METRICS_PORT)]);
    assert(outside.success, outside.stderr);
    assertEquals(JSON.parse(outside.stdout).metrics, "refused");
    console.log(`  metrics probes: ${inside.stdout}`);

    // The agent is unaffected: same process, same states, still MASTER, errors logged.
    const after = await a.status();
    assertEquals(after.pid, before.pid);
    assertEquals(after.states.count, 500);
    assertEquals(after.carp[0].state, "MASTER");
    assert(!a.proc.exited, "agent still running");
    const log = a.log();
    assertMatch(log, /control: control connection \d+: request exceeds/);
    assertMatch(log, /control: control connection \d+: .*(JSON|json)/);
  },
  { timeoutMs: 45_000 },
);
