/**
 * Configuration: `parseRcConf`, `parseSysctlConf`, `parseYamlConfig` and the
 * whole `loadConfig` over an injected `readFile`. A config parser never
 * throws: every problem is a diagnostic, and a diagnostic names a file that
 * was read and a place inside it (line 0 = the whole file; otherwise a line
 * and column that exist, or the end of the file). `loadConfig` returns a
 * config exactly when no diagnostic is an error, and `formatDiagnostic`
 * renders every diagnostic against its file.
 */
import {
  type Diagnostic,
  DiagnosticSink,
  formatDiagnostic,
  hasErrors,
  loadConfig,
  parseRcConf,
  parseYamlConfig,
  type RcVariables,
} from "../../../lib/config/mod.ts";
import { parseSysctlConf } from "../../../lib/config/sysctl.ts";
import { emptyLayer } from "../../../lib/config/model.ts";
import { type FuzzInstance, type FuzzTarget, invariant } from "../target.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const RC_DIR = new URL("../../../rc/", import.meta.url);

function example(name: string): string {
  return Deno.readTextFileSync(new URL(name, RC_DIR));
}

/** An example without its comment lines: small inputs mutate into more distinct programs. */
function bare(text: string): string {
  return text.split("\n").filter((l) => !/^\s*#/.test(l) && l.trim() !== "").join("\n");
}

const RC_EXTRA = [
  `pfsync_enable=YES; pfsync_syncdev=eth2 pfsync_syncpeer="192.0.2.9"
ifconfig_eth0_alias0="inet vhid 3 advskew 100 pass 'x y' alias 192.0.2.50/32"
cloned_interfaces="carp0"
ifconfig_carp0="vhid 1 advbase 2 advskew 50 carpdev em0 pass secret 192.0.2.1/24"
ifconfig_carp0_ipv6="inet6 2001:db8::1 prefixlen 64"
pfsyncd_config=\${pfsyncd_config:-/usr/local/etc/pfsyncd.yaml}
pfsyncd_flags="--provider conntrack" # trailing comment
carp_pass=abc\\
def`,
  `rc_conf_files="/etc/rc.conf /etc/rc.conf.local"
defaultrouter="192.0.2.254"
ifconfig_em0="inet 192.0.2.2/24 vhid 1 pass s advbase 1 advskew 0 alias 192.0.2.1/32 state backup"
ifconfig_em0_ipv6="inet6 vhid 2 pass s 2001:db8::1/64"
pfsyncd_enable="\${pfsync_enable-NO}"
if [ -f /etc/foo ]; then pfsyncd_enable=YES; fi
x=$(hostname)
y=\`date\`
load_rc_config() { :; }`,
];

const SYSCTL_EXTRA = [
  `net.inet.carp.allow=1
net.inet.carp.preempt = 1
net.inet.carp.log=2
net.inet.carp.demotion=0
net.inet.carp.senderr_demotion_factor=240
net.inet.carp.ifdown_demotion_factor=240
net.inet.carp.nonsense=3
kern.hz=1000 # comment`,
];

const YAML_EXTRA = [
  `hostid: 42
provider: conntrack
control: /run/pfsyncd.sock
log: {level: debug, format: json, target: syslog}
metrics: {listen: "127.0.0.1:9734"}
carp:
  - {vhid: 1, parent: eth0, pass: secret, advbase: 1, advskew: 0, addresses: [192.0.2.1/24]}
  - vhid: 2
    interface: carp1
    parent: eth1
    state: backup
    addresses: ["2001:db8::1/64", 198.51.100.1/24]
pfsync: {syncif: sync0, syncpeer: 192.0.2.9, maxupd: 64, auth: {keyfile: /etc/k, required: true}}
sysctl: {preempt: true, log: 2, demotion: 10}
interfaces: {eth0: {addresses: [192.0.2.2/24], up: true}}
hooks: {scripts: {"1": /bin/true, "*": [/bin/a, /bin/b]}, timeout_ms: 500}
conntrack:
  protocols: [tcp, 17, ipv6-icmp]
  include: [10.0.0.0/8]
  exclude: [10.9.0.0/16]
  tcp_states: [ESTABLISHED]
  sync_own: false
  sweep_interval_ms: 5000
rcd: {enable: true}`,
  `&a hostid: *a
base: &b {vhid: 1}
carp: [*b, {<<: *b, parent: x}]
? [complex, key]
: value
%TAG ! tag:example.com,2000:
--- !!map
...`,
];

let seeds: { rc: string[]; sysctl: string[]; yaml: string[] } | undefined;

function texts() {
  // The full examples (comments and all) once, their bare forms, and the extra constructs.
  const rc = example("rc.conf.example");
  const sysctl = example("sysctl.conf.example");
  const yaml = example("pfsyncd.yaml.example");
  seeds ??= {
    rc: [bare(rc), ...RC_EXTRA, rc],
    sysctl: [bare(sysctl), ...SYSCTL_EXTRA, sysctl],
    yaml: [bare(yaml), ...YAML_EXTRA, yaml],
  };
  return seeds;
}

const RC_TOKENS = [
  "ifconfig_",
  "carp0",
  "_alias0",
  "_ipv6",
  "vhid ",
  "advskew ",
  "advbase ",
  "pass ",
  "carpdev ",
  "state ",
  "inet ",
  "inet6 ",
  "alias ",
  "netmask 0xffffff00",
  "prefixlen ",
  "pfsync_syncdev=",
  "pfsync_syncpeer=",
  "pfsync_maxupd=",
  "pfsyncd_enable=",
  "pfsyncd_config=",
  "cloned_interfaces=",
  "rc_conf_files=",
  "${",
  "${x:-",
  "${x-",
  "${x:=",
  "$x",
  "$1",
  "$(",
  "`",
  "if ",
  "then ",
  "fi",
  "for x in a; do",
  "done",
  "case $x in",
  "esac",
  "{",
  "}",
  "f() {",
  ". ",
  "source ",
  "|",
  "&&",
  ">",
  "<",
  "export ",
  "=",
  "\\",
  "256",
  "0",
];

const SYSCTL_TOKENS = [
  "net.inet.carp.",
  "allow",
  "preempt",
  "log",
  "demotion",
  "senderr_demotion_factor",
  "ifdown_demotion_factor",
  "=",
  " = ",
  "#",
  "-2147483649",
  "2147483648",
];

const YAML_TOKENS = [
  ": ",
  "- ",
  "{",
  "}",
  "[",
  "]",
  ", ",
  "&a ",
  "*a",
  "<<: ",
  "!!binary ",
  "!!int ",
  "!!str ",
  "!!set ",
  "? ",
  "|\n",
  ">-\n",
  "---\n",
  "...\n",
  "%YAML 1.1\n",
  "null",
  "~",
  ".inf",
  "-.inf",
  ".nan",
  "0o17",
  "0x1f",
  "1_000",
  "true",
  "yes",
  "hostid",
  "carp",
  "vhid",
  "parent",
  "addresses",
  "pfsync",
  "syncpeer",
  "auth",
  "keyfile",
  "hooks",
  "scripts",
  "conntrack",
  "protocols",
  "include",
  "tcp_states",
  "interfaces",
  "sysctl",
  "metrics",
  "listen",
  "rcd",
  "__proto__",
  "constructor",
  "toString",
];

/** Every diagnostic points into a file that was read, at a place that exists. */
function checkDiagnostics(diagnostics: readonly Diagnostic[], files: Map<string, string>): void {
  for (const d of diagnostics) {
    const text = files.get(d.file);
    invariant(
      text !== undefined || d.line === 0,
      () => `diagnostic names a file that was not read: ${d.file}`,
    );
    invariant(d.severity === "error" || d.severity === "warning", `severity ${d.severity}`);
    invariant(typeof d.message === "string" && d.message.length > 0, "empty diagnostic message");
    if (d.line === 0 || text === undefined) continue;
    const lines = text.split(/\r?\n|\r/);
    invariant(
      Number.isInteger(d.line) && d.line >= 1 && d.line <= lines.length,
      () => `${d.file}:${d.line}:${d.column}: line outside the file (${lines.length} lines)`,
    );
    invariant(
      Number.isInteger(d.column) && d.column >= 1,
      () => `${d.file}:${d.line}:${d.column}: column < 1 (${d.message})`,
    );
    formatDiagnostic(d, text);
  }
}

function parseWith(run: (text: string, sink: DiagnosticSink) => unknown, file: string) {
  return {
    run(input: Uint8Array): string {
      const text = decoder.decode(input);
      const sink = new DiagnosticSink();
      run(text, sink);
      checkDiagnostics(sink.items, new Map([[file, text]]));
      return hasErrors(sink.items) ? "errors" : sink.items.length > 0 ? "warnings" : "clean";
    },
  };
}

export const rcConfTarget: FuzzTarget = {
  name: "rc.conf",
  covers: "parseRcConf (sh-subset lexer and parser, ifconfig values)",
  kind: "text",
  seeds: () => texts().rc.map((t) => encoder.encode(t)),
  tokens: RC_TOKENS,
  create: () =>
    parseWith((text, sink) => {
      const vars: RcVariables = new Map();
      parseRcConf(text, "rc.conf", vars, sink);
    }, "rc.conf"),
};

export const sysctlTarget: FuzzTarget = {
  name: "sysctl",
  covers: "parseSysctlConf",
  kind: "text",
  seeds: () => texts().sysctl.map((t) => encoder.encode(t)),
  tokens: SYSCTL_TOKENS,
  create: () =>
    parseWith(
      (text, sink) => parseSysctlConf(text, "sysctl.conf", emptyLayer("sysctl.conf"), sink),
      "sysctl.conf",
    ),
};

export const yamlTarget: FuzzTarget = {
  name: "yaml",
  covers: "parseYamlConfig (yaml parse, zod schema, layer)",
  kind: "text",
  seeds: () => texts().yaml.map((t) => encoder.encode(t)),
  tokens: YAML_TOKENS,
  create: () =>
    parseWith((text, sink) => parseYamlConfig(text, "pfsyncd.yaml", sink), "pfsyncd.yaml"),
};

/** Three files in one input, separated by NUL: rc.conf, sysctl.conf, pfsyncd.yaml. */
const FILES = ["/etc/rc.conf", "/etc/sysctl.conf", "/usr/local/etc/pfsyncd.yaml"];

function createLoad(): FuzzInstance {
  return {
    async run(input: Uint8Array): Promise<string> {
      const parts = decoder.decode(input).split("\0");
      const files = new Map<string, string>();
      FILES.forEach((f, i) => {
        if (parts[i] !== undefined) files.set(f, parts[i]);
      });
      const read = (path: string) => {
        const text = files.get(path);
        return text !== undefined
          ? Promise.resolve(text)
          : Promise.reject(new Deno.errors.NotFound(`No such file or directory: ${path}`));
      };
      const result = await loadConfig({
        rcFiles: [FILES[0]],
        sysctlFile: files.has(FILES[1]) ? FILES[1] : undefined,
        yamlFile: files.has(FILES[2]) ? FILES[2] : undefined,
        readFile: read,
        machineIdFiles: [],
      });
      checkDiagnostics(result.diagnostics, result.texts);
      const errors = hasErrors(result.diagnostics);
      invariant(
        errors === (result.config === undefined),
        errors ? "a config was returned despite errors" : "no config although nothing failed",
      );
      return errors ? "errors" : "config";
    },
  };
}

export const loadConfigTarget: FuzzTarget = {
  name: "config",
  covers: "loadConfig (rc.conf + sysctl.conf + YAML → merge → validate) via injected readFile",
  kind: "text",
  seeds() {
    const t = texts();
    return t.rc.map((rc, i) =>
      encoder.encode([rc, t.sysctl[i % t.sysctl.length], t.yaml[i % t.yaml.length]].join("\0"))
    );
  },
  tokens: [...RC_TOKENS, ...SYSCTL_TOKENS, ...YAML_TOKENS, "\0"],
  create: createLoad,
};
