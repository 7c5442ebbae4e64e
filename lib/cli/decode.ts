/**
 * `pfsyncd decode FILE.pcap`: the CARP and pfsync packets of a capture
 * (`tcpdump -w`, Ethernet or Linux cooked), one line a packet and one
 * indented line a record, each with the checks a receiver makes. Packets a
 * receiver would drop are shown with the decoder's reason, never a trace.
 */
import type { Command } from "commander";
import { DecodeError } from "../bytes/errors.ts";
import { parseAddress } from "../net/address.ts";
import { PfsyncAuth, readAuthKeyFile } from "../pfsync/auth.ts";
import {
  decodePcap,
  inspectFrame,
  LINKTYPE_NAMES,
  linkTypeSupported,
  type PacketReport,
  type PcapFile,
  type VipOption,
} from "../pcap/mod.ts";
import { hasErrors, loadConfig } from "../config/mod.ts";
import type { VhostOption } from "../pcap/mod.ts";
import {
  addConfigOptions,
  type ConfigFlags,
  formatDiagnostics,
  loadOptionsFromFlags,
  summary,
} from "./config_options.ts";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./exit.ts";
import { writeOut } from "./status.ts";

interface DecodeFlags extends ConfigFlags {
  json?: boolean;
  pass?: string;
  vip: string[];
  authKey?: string;
  strict?: boolean;
}

/** "192.0.2.1", "192.0.2.1/24", "2=198.51.100.1" (only for vhid 2). */
export function parseVip(text: string): VipOption {
  const match = /^(?:(\d{1,3})=)?([^/\s]+)(?:\/\d{1,3})?$/.exec(text.trim());
  const vhid = match?.[1] === undefined ? undefined : Number(match[1]);
  const parsed = match ? parseAddress(match[2]) : undefined;
  if (!parsed || (vhid !== undefined && (vhid < 1 || vhid > 255))) {
    throw new CliExit(
      EXIT_USAGE,
      `pfsyncd decode: --vip "${text}" is not [VHID=]ADDRESS (e.g. 192.0.2.1 or 1=192.0.2.1)`,
    );
  }
  return vhid === undefined ? { address: parsed.address } : { vhid, address: parsed.address };
}

/** HH:MM:SS.ffffff (UTC), nanoseconds when the file has them. */
export function formatTime(seconds: number, nanos: number, resolution: "us" | "ns"): string {
  const clock = new Date(seconds * 1000).toISOString().slice(11, 19);
  const fraction = resolution === "ns"
    ? String(nanos).padStart(9, "0")
    : String(Math.floor(nanos / 1000)).padStart(6, "0");
  return `${clock}.${fraction}`;
}

export function renderChecks(report: PacketReport): string {
  return report.checks.map((c) =>
    c.ok === true
      ? `${c.name} ok`
      : c.ok === false
      ? `${c.name} BAD (${c.reason}: ${c.detail})`
      : `${c.name} ${c.detail}`
  ).join(", ");
}

export function renderPacket(report: PacketReport, resolution: "us" | "ns"): string {
  const dir = report.direction ? ` ${report.direction}` : "";
  const mac = report.linkSource ? ` ${report.linkSource}` : "";
  const head =
    `#${report.index} ${formatTime(report.seconds, report.nanos, resolution)}${dir}${mac} ` +
    `${report.source} > ${report.destination} ttl ${report.ttl} ${report.summary}`;
  const verdict = report.error
    ? ` MALFORMED ${report.error.reason}: ${report.error.message}`
    : report.ok
    ? ""
    : " DROPPED";
  const lines = [`${head} [${renderChecks(report)}]${verdict}`];
  for (const record of report.records) {
    if (record.text === "") continue;
    lines.push(`    ${record.text}${record.problem ? `  ← ${record.problem}` : ""}`);
  }
  return lines.join("\n");
}

export function packetJson(report: PacketReport, resolution: "us" | "ns"): Record<string, unknown> {
  return {
    index: report.index,
    time: `${new Date(report.seconds * 1000).toISOString().slice(0, 19)}.${
      resolution === "ns"
        ? String(report.nanos).padStart(9, "0")
        : String(Math.floor(report.nanos / 1000)).padStart(6, "0")
    }Z`,
    protocol: report.protocol,
    family: report.family,
    src: report.source,
    dst: report.destination,
    ...(report.linkSource ? { linkSrc: report.linkSource } : {}),
    ...(report.direction ? { direction: report.direction } : {}),
    ttl: report.ttl,
    length: report.length,
    ok: report.ok,
    checks: report.checks,
    ...(report.error ? { error: report.error } : {}),
    ...report.fields,
    records: report.records.map((r) => (r.problem ? { ...r.json, problem: r.problem } : r.json)),
  };
}

/**
 * With -f/-s/-c: the configured vhids (each with its passphrase and
 * addresses) and the pfsync key file. Without them: nothing (decode does not
 * read the system's files unless asked).
 */
async function configured(
  flags: DecodeFlags,
): Promise<{ vhosts?: VhostOption[]; keyfile?: string }> {
  if (!flags.rcConf?.length && flags.sysctlConf === undefined && flags.config === undefined) {
    return {};
  }
  const loaded = await loadConfig(loadOptionsFromFlags(flags));
  if (!loaded.config || hasErrors(loaded.diagnostics)) {
    console.error(formatDiagnostics(loaded.diagnostics, loaded.texts));
    throw new CliExit(
      EXIT_FAILURE,
      `pfsyncd decode: configuration has ${summary(loaded.diagnostics)}`,
    );
  }
  return {
    vhosts: loaded.config.carp.map((v) => ({
      vhid: v.vhid,
      pass: v.pass,
      addresses: v.addresses.map((a) => a.address),
    })),
    keyfile: loaded.config.pfsync.auth?.keyfile,
  };
}

export function registerDecode(program: Command): void {
  const command = program
    .command("decode")
    .argument("<file>", "a capture written by tcpdump -w (classic pcap)")
    .description("decode the CARP and pfsync packets of a capture, with the receivers' checks")
    .option("--json", "one JSON object a packet")
    .option("--pass <passphrase>", "CARP passphrase: check the HMAC (needs --vip)")
    .option(
      "--vip <[vhid=]address>",
      "a virtual address the HMAC covers (repeatable; vhid= limits it to one vhid)",
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option("--auth-key <file>", "pfsync authentication key file: verify the trailer")
    .option("--strict", "exit 1 when any packet fails a check");
  addConfigOptions(command)
    .addHelpText(
      "after",
      "\nWith -f/-s/-c the configured vhids are known: an advertisement for another vhid\n" +
        "fails the vhid check (badvhid) and each one's HMAC is checked with its own\n" +
        "passphrase and addresses; pfsync.auth's key file is used. The receiving interface\n" +
        "is never checked. Other packets in the capture are skipped.\n\nExamples:\n" +
        "  tcpdump -i eth0 -w carp.pcap 'ip proto 112 or ip proto 240'\n" +
        "  pfsyncd decode carp.pcap --pass secret --vip 192.0.2.1\n" +
        "  pfsyncd decode sync.pcap --json --auth-key /usr/local/etc/pfsyncd.key\n" +
        "  pfsyncd decode both.pcap -f /etc/rc.conf -c /usr/local/etc/pfsyncd.yaml",
    )
    .action(async (file: string, flags: DecodeFlags) => await decodeCommand(file, flags));
}

async function decodeCommand(path: string, flags: DecodeFlags): Promise<void> {
  const vips = flags.vip.map(parseVip);
  const { vhosts, keyfile: configuredKey } = await configured(flags);
  const keyfile = flags.authKey ?? configuredKey;
  let auth: PfsyncAuth | undefined;
  if (keyfile) {
    try {
      auth = new PfsyncAuth({ key: await readAuthKeyFile(keyfile), mode: "optional" });
    } catch (error) {
      throw new CliExit(EXIT_FAILURE, `pfsyncd decode: ${keyfile}: ${(error as Error).message}`);
    }
  }
  let capture: PcapFile;
  try {
    capture = decodePcap(await Deno.readFile(path));
  } catch (error) {
    if (error instanceof DecodeError || error instanceof Deno.errors.NotFound) {
      throw new CliExit(EXIT_FAILURE, `pfsyncd decode: ${path}: ${(error as Error).message}`);
    }
    if (error instanceof Error && error.name === "PermissionDenied") {
      throw new CliExit(EXIT_FAILURE, `pfsyncd decode: ${path}: ${error.message}`);
    }
    throw error;
  }
  const { linktype, resolution } = capture.header;
  if (!linkTypeSupported(linktype)) {
    throw new CliExit(
      EXIT_FAILURE,
      `pfsyncd decode: ${path}: link type ${linktype} is not supported ` +
        `(Ethernet, Linux cooked SLL/SLL2 and raw IP are)`,
    );
  }
  const counts = { carp: 0, pfsync: 0, skipped: 0, failed: 0 };
  const out: string[] = [];
  for (const record of capture.records) {
    const result = inspectFrame(linktype, record, { pass: flags.pass, vips, vhosts, auth });
    if (result.kind === "skipped") {
      counts.skipped++;
      continue;
    }
    const report = result.report;
    counts[report.protocol]++;
    if (!report.ok) counts.failed++;
    out.push(
      flags.json
        ? JSON.stringify(packetJson(report, resolution))
        : renderPacket(report, resolution),
    );
  }
  if (out.length > 0) await writeOut(out.join("\n") + "\n");
  if (capture.truncated) {
    console.error(`pfsyncd decode: ${path}: capture cut short: ${capture.truncated.message}`);
  }
  console.error(
    `pfsyncd decode: ${capture.records.length} frames (${
      LINKTYPE_NAMES[linktype]
    }): ${counts.carp} CARP, ${counts.pfsync} pfsync, ${counts.failed} failing a check, ${counts.skipped} other`,
  );
  if (flags.strict && counts.failed > 0) {
    throw new CliExit(EXIT_FAILURE, "");
  }
}
