import {
  captureSink,
  createLogger,
  formatJson,
  formatSyslog,
  formatText,
  type LogLevel,
  type LogRecord,
  parseLogLevel,
} from "../../lib/agent/log.ts";
import {
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "../helpers/assert.ts";

const TS = new Date("2026-11-28T12:00:00.000Z");
const fixedNow = () => TS;

function record(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): LogRecord {
  return { ts: TS, level, msg, fields };
}

Deno.test("formatText() writes ISO time, level, message, then key=value fields", () => {
  const table: [LogRecord, string][] = [
    [
      record("info", "carp: 1@eth1: BACKUP -> MASTER (master timed out)"),
      "2026-11-28T12:00:00.000Z info carp: 1@eth1: BACKUP -> MASTER (master timed out)",
    ],
    [
      record("warning", "demoted", { vhid: 1, interface: "eth1" }),
      "2026-11-28T12:00:00.000Z warning demoted vhid=1 interface=eth1",
    ],
    [
      record("error", "hook failed", { reason: "exit code 1", ok: false, err: new Error("x y") }),
      '2026-11-28T12:00:00.000Z error hook failed reason="exit code 1" ok=false err="x y"',
    ],
    [record("debug", "peer", { peer: "a=b" }), '2026-11-28T12:00:00.000Z debug peer peer="a=b"'],
  ];
  for (const [input, expected] of table) assertEquals(formatText(input), expected);
});

Deno.test("formatJson() puts ts, level, msg first and fields cannot override them", () => {
  const line = formatJson(
    record("info", "bulk update done", { states: 10, level: "forged", err: new Error("e") }),
  );
  assertEquals(
    line,
    '{"ts":"2026-11-28T12:00:00.000Z","level":"info","msg":"bulk update done","states":10,"err":"e"}',
  );
});

Deno.test("createLogger() drops records below its level", () => {
  const levels: LogLevel[] = ["debug", "info", "warning", "error"];
  for (const [index, threshold] of levels.entries()) {
    const sink = captureSink();
    const log = createLogger({ sink, level: threshold, now: fixedNow });
    for (const level of levels) log[level](level);
    assertEquals(sink.records.map((r) => r.level), levels.slice(index), `threshold ${threshold}`);
  }
});

Deno.test("createLogger() defaults to info and text lines", () => {
  const sink = captureSink();
  const log = createLogger({ sink, now: fixedNow });
  log.debug("hidden");
  log.info("carp: 1@eth1: BACKUP -> MASTER (master timed out)");
  assertEquals(log.level, "info");
  assertEquals(sink.lines, [
    "2026-11-28T12:00:00.000Z info carp: 1@eth1: BACKUP -> MASTER (master timed out)",
  ]);
});

Deno.test("Logger.child() adds fields; nearer fields win; the parent is unchanged", () => {
  const sink = captureSink();
  const root = createLogger({ sink, format: "json", now: fixedNow, fields: { node: "a" } });
  const vhid = root.child({ vhid: 1, interface: "eth1" });
  const deeper = vhid.child({ vhid: 2 });
  vhid.info("one");
  deeper.warning("two", { reason: "preempted by 192.0.2.2" });
  root.error("three");
  assertEquals(sink.lines.map((line) => JSON.parse(line)), [
    { ts: TS.toISOString(), level: "info", msg: "one", node: "a", vhid: 1, interface: "eth1" },
    {
      ts: TS.toISOString(),
      level: "warning",
      msg: "two",
      node: "a",
      vhid: 2,
      interface: "eth1",
      reason: "preempted by 192.0.2.2",
    },
    { ts: TS.toISOString(), level: "error", msg: "three", node: "a" },
  ]);
});

Deno.test("parseLogLevel() accepts the four levels (and warn), rejects others", () => {
  const table: [string, LogLevel][] = [
    ["debug", "debug"],
    ["INFO", "info"],
    ["warn", "warning"],
    ["warning", "warning"],
    ["error", "error"],
  ];
  for (const [text, level] of table) assertEquals(parseLogLevel(text), level);
  assertThrows(() => parseLogLevel("verbose"), Error, "unknown log level");
});

Deno.test("formatSyslog() uses LOG_DAEMON priorities and the syslog(3) header", () => {
  const table: [LogLevel, number][] = [["debug", 31], ["info", 30], ["warning", 28], ["error", 27]];
  for (const [level, pri] of table) {
    const datagram = formatSyslog("line", record(level, "m"), "pfsyncd", 42);
    assertMatch(
      datagram,
      new RegExp(`^<${pri}>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:00 pfsyncd\\[42\\]: line$`),
    );
  }
});

const LOG_MODULE = new URL("../../lib/agent/log.ts", import.meta.url).href;

/** Runs a script that logs one line through openLog({target: "syslog"}) in a fresh process. */
async function runSyslogScript(unstable: boolean): Promise<{ stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "logtest-" });
  try {
    const script = `${dir}/script.ts`;
    await Deno.writeTextFile(
      script,
      `import { openLog } from ${JSON.stringify(LOG_MODULE)};
const path = ${JSON.stringify(`${dir}/dev-log`)};
// deno-lint-ignore no-explicit-any
const listen = (Deno as any).listenDatagram;
const daemon = listen ? listen({ transport: "unixpacket", path }) : undefined;
const log = openLog({ target: "syslog", syslog: { path, bindPath: ${
        JSON.stringify(`${dir}/client`)
      } } });
log.logger.info("carp: 1@eth1: BACKUP -> MASTER", { vhid: 1 });
await log.close();
if (daemon) {
  const [data] = await daemon.receive();
  console.log(new TextDecoder().decode(data));
  daemon.close();
}
`,
    );
    const args = ["run", "--allow-all", ...(unstable ? ["--unstable-net"] : []), script];
    const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
      .output();
    const decoder = new TextDecoder();
    const result = { stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
    assertEquals(out.code, 0, result.stderr);
    return result;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openLog() syslog target sends an RFC 3164 datagram when Deno has datagram sockets", async () => {
  const { stdout, stderr } = await runSyslogScript(true);
  assertMatch(
    stdout.trim(),
    /^<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d pfsyncd\[\d+\]: \S+Z info carp: 1@eth1: BACKUP -> MASTER vhid=1$/,
  );
  assertEquals(stderr, "");
});

Deno.test("openLog() syslog target falls back to stderr with a warning without --unstable-net", async () => {
  const { stderr } = await runSyslogScript(false);
  const lines = stderr.trim().split("\n");
  assertEquals(lines.length, 2);
  assertStringIncludes(lines[0], "warning syslog unavailable");
  assertStringIncludes(lines[0], "--unstable-net");
  assertMatch(lines[1], /^\S+Z info carp: 1@eth1: BACKUP -> MASTER vhid=1$/);
});
