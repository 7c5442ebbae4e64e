/**
 * The agent's log: levels, text or JSON lines, stderr or syslog. Every state
 * transition goes through here with its reason, so the log is what explains a
 * failover afterwards; sinks are synchronous from the caller's view so a line
 * written just before exit is not lost behind an await.
 *
 *   text: 2026-11-28T12:00:00.000Z info carp: 1@eth1: BACKUP -> MASTER (master timed out)
 *   json: {"ts":"2026-11-28T12:00:00.000Z","level":"info","msg":"carp: ...","vhid":1}
 */

export type LogLevel = "debug" | "info" | "warning" | "error";
export type LogFormat = "text" | "json";
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warning", "error"];
const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warning: 2, error: 3 };
/** syslog(3) severities: LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR 3. */
const SYSLOG_SEVERITY: Readonly<Record<LogLevel, number>> = {
  debug: 7,
  info: 6,
  warning: 4,
  error: 3,
};
/** LOG_DAEMON. */
const SYSLOG_FACILITY_DAEMON = 3;

export interface LogRecord {
  ts: Date;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warning(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record (a vhid, an interface, a peer). */
  child(fields: LogFields): Logger;
}

/** Where formatted lines go. `write` must not throw and must not block on I/O. */
export interface LogSink {
  write(line: string, record: LogRecord): void;
  close?(): Promise<void> | void;
}

export function formatText(record: LogRecord): string {
  const extra = Object.entries(record.fields)
    .map(([key, value]) => ` ${key}=${formatFieldValue(value)}`)
    .join("");
  return `${record.ts.toISOString()} ${record.level} ${record.msg}${extra}`;
}

function formatFieldValue(value: unknown): string {
  if (typeof value === "string" && /^[^\s"=]+$/.test(value)) return value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

export function formatJson(record: LogRecord): string {
  // ts/level/msg first and not overridable by fields: log shippers key on them.
  const fields = Object.fromEntries(
    Object.entries(record.fields)
      .filter(([key]) => key !== "ts" && key !== "level" && key !== "msg")
      .map(([key, value]) => [key, value instanceof Error ? value.message : value]),
  );
  return JSON.stringify({
    ts: record.ts.toISOString(),
    level: record.level,
    msg: record.msg,
    ...fields,
  });
}

export interface LoggerOptions {
  sink: LogSink;
  level?: LogLevel;
  format?: LogFormat;
  fields?: LogFields;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = options.level ?? "info";
  const format = options.format === "json" ? formatJson : formatText;
  const now = options.now ?? (() => new Date());
  const make = (bound: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[level] < RANK[threshold]) return;
      const record: LogRecord = { ts: now(), level, msg, fields: { ...bound, ...fields } };
      options.sink.write(format(record), record);
    };
    return {
      level: threshold,
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warning: (msg, fields) => emit("warning", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

export function parseLogLevel(text: string): LogLevel {
  const level = text.toLowerCase() === "warn" ? "warning" : text.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`unknown log level "${text}" (one of ${LOG_LEVELS.join(", ")})`);
  }
  return level as LogLevel;
}

export function stderrSink(): LogSink {
  const encoder = new TextEncoder();
  return {
    write(line) {
      try {
        Deno.stderr.writeSync(encoder.encode(line + "\n"));
      } catch {
        // stderr closed (daemonised without a terminal): nothing better to do.
      }
    },
  };
}

/** Keeps lines in memory: tests read `lines`. */
export function captureSink(): LogSink & { lines: string[]; records: LogRecord[] } {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  return {
    lines,
    records,
    write(line, record) {
      lines.push(line);
      records.push(record);
    },
  };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** One RFC 3164 datagram as syslog(3) sends it to the local socket. */
export function formatSyslog(line: string, record: LogRecord, ident: string, pid: number): string {
  const pri = SYSLOG_FACILITY_DAEMON * 8 + SYSLOG_SEVERITY[record.level];
  const ts = record.ts;
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${MONTHS[ts.getMonth()]} ${String(ts.getDate()).padStart(2, " ")} ` +
    `${two(ts.getHours())}:${two(ts.getMinutes())}:${two(ts.getSeconds())}`;
  return `<${pri}>${stamp} ${ident}[${pid}]: ${line}`;
}

export interface SyslogOptions {
  /** The syslog daemon's datagram socket. */
  path?: string;
  /** Where our own datagram socket is bound (Deno cannot send from an unbound one). */
  bindPath?: string;
  ident?: string;
  /** Used when syslog cannot be opened, and told why. */
  fallback?: LogSink;
}

type DatagramConn = {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
};
type ListenDatagram = (options: { transport: "unixpacket"; path: string }) => DatagramConn;

/**
 * A sink sending to `/dev/log`. Deno 2.9 offers Unix datagram sockets only as
 * `Deno.listenDatagram` under `--unstable-net`; without it, or when the socket
 * cannot be bound, lines go to the fallback (stderr) with one warning saying why.
 */
export function openSyslogSink(options: SyslogOptions = {}): LogSink {
  const path = options.path ?? "/dev/log";
  const ident = options.ident ?? "pfsyncd";
  const fallback = options.fallback ?? stderrSink();
  const bindPath = options.bindPath ?? `/tmp/pfsyncd-syslog-${Deno.pid}.sock`;
  const listen = (Deno as unknown as { listenDatagram?: ListenDatagram }).listenDatagram;
  const warn = (why: string) => {
    const record: LogRecord = { ts: new Date(), level: "warning", msg: why, fields: {} };
    fallback.write(formatText(record), record);
  };
  if (typeof listen !== "function") {
    warn(`syslog unavailable (this Deno needs --unstable-net for ${path}); logging to stderr`);
    return fallback;
  }
  let conn: DatagramConn;
  try {
    conn = listen({ transport: "unixpacket", path: bindPath });
  } catch (error) {
    warn(`syslog unavailable (bind ${bindPath}: ${(error as Error).message}); logging to stderr`);
    return fallback;
  }
  const encoder = new TextEncoder();
  let chain = Promise.resolve();
  let failed = false;
  return {
    write(line, record) {
      const datagram = encoder.encode(formatSyslog(line, record, ident, Deno.pid));
      chain = chain.then(async () => {
        try {
          await conn.send(datagram, { transport: "unixpacket", path });
        } catch (error) {
          // syslogd down or restarting: keep the line on stderr rather than lose it.
          if (!failed) warn(`syslog ${path}: ${(error as Error).message}; also writing to stderr`);
          failed = true;
          fallback.write(line, record);
        }
      });
    },
    async close() {
      await chain;
      conn.close();
      await Deno.remove(bindPath).catch(() => {});
    },
  };
}

export interface LogConfig {
  level?: LogLevel;
  format?: LogFormat;
  target?: "stderr" | "syslog";
  syslog?: SyslogOptions;
}

/** Builds the agent's logger from its configuration; `close` flushes syslog. */
export function openLog(config: LogConfig = {}): { logger: Logger; close(): Promise<void> } {
  const sink = config.target === "syslog" ? openSyslogSink(config.syslog) : stderrSink();
  const logger = createLogger({ sink, level: config.level, format: config.format });
  return { logger, close: async () => await sink.close?.() };
}
