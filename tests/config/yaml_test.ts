import { DiagnosticSink } from "../../lib/config/diagnostics.ts";
import { parseYamlConfig } from "../../lib/config/yaml.ts";
import { formatCidr } from "../../lib/net/address.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { brief } from "./helpers.ts";

function parse(text: string) {
  const sink = new DiagnosticSink();
  const layer = parseYamlConfig(text, "p.yaml", sink);
  return { layer, diagnostics: sink.items.map(brief) };
}

const FULL = `hostid: 0x0badcafe
provider: conntrack
control: /run/p.sock
pidfile: /run/p.pid
log: {target: syslog, level: debug, format: json}
hooks:
  timeout_ms: 500
  scripts:
    "*": /usr/local/bin/all
    7: [/a, /b]
metrics: {listen: "127.0.0.1:9734"}
pfsync:
  enabled: true
  syncif: em2
  syncpeer: 10.0.0.2
  maxupd: 0
  defer: true
  auth: {keyfile: /k}
sysctl: {allow: false, preempt: true, log: 2, demotion: 5,
  senderr_demotion_factor: 1, ifdown_demotion_factor: 2}
interfaces:
  em0: {addresses: [192.0.2.2/24, "2001:db8::2/64"], up: false}
carp:
  - vhid: 7
    parent: em0
    interface: carp3
    advbase: 3
    advskew: 254
    pass: "0123"
    state: master
    addresses: [192.0.2.1/24, "2001:db8::1/64"]
rcd: {enable: true, flags: "-x"}
`;

Deno.test("parseYamlConfig() reads every key", () => {
  const { layer, diagnostics } = parse(FULL);
  assertEquals(diagnostics, []);
  assert(layer);
  const values = Object.fromEntries(Object.entries(layer.settings).map(([k, v]) => [k, v!.value]));
  assertEquals(values, {
    hostid: 0x0badcafe,
    provider: "conntrack",
    control: "/run/p.sock",
    pidfile: "/run/p.pid",
    "log.target": "syslog",
    "log.level": "debug",
    "log.format": "json",
    "hooks.timeoutMs": 500,
    "hooks.scripts": { "*": ["/usr/local/bin/all"], "7": ["/a", "/b"] },
    "metrics.listen": "127.0.0.1:9734",
    "pfsync.enabled": true,
    "pfsync.syncif": "em2",
    "pfsync.syncpeer": "10.0.0.2",
    "pfsync.maxupd": 0,
    "pfsync.defer": true,
    "pfsync.auth": { keyfile: "/k", required: true },
    "sysctl.allow": false,
    "sysctl.preempt": true,
    "sysctl.log": 2,
    "sysctl.demotion": 5,
    "sysctl.senderrDemotionFactor": 1,
    "sysctl.ifdownDemotionFactor": 2,
    "rcd.enable": true,
    "rcd.flags": "-x",
  });
  assertEquals(layer.settings["pfsync.syncif"]!.source, { file: "p.yaml", line: 14, column: 11 });
  const [v] = layer.carp;
  assertEquals(
    [v.interface, v.vhid, v.parent, v.advbase, v.advskew, v.pass, v.state],
    ["carp3", 7, "em0", 3, 254, "0123", "master"],
  );
  assertEquals(v.addresses.map(formatCidr), ["192.0.2.1/24", "2001:db8::1/64"]);
  assertEquals(v.source, { file: "p.yaml", line: 24, column: 5 });
  assertEquals(v.sources?.advskew, { file: "p.yaml", line: 28, column: 14 });
  assertEquals(layer.interfaces.em0.addresses.map(formatCidr), ["192.0.2.2/24", "2001:db8::2/64"]);
  assertEquals(layer.interfaces.em0.up, false);
  assertEquals([...layer.declaredInterfaces], ["em0"]);
});

Deno.test("parseYamlConfig() defaults of a minimal vhost, empty file, null syncif", () => {
  const { layer } = parse("carp:\n  - {vhid: 1, parent: em0, addresses: [192.0.2.1/32]}\n");
  const v = layer!.carp[0];
  assertEquals([v.interface, v.advbase, v.advskew, v.pass, v.state], ["em0", 1, 0, "", undefined]);
  assertEquals(parse("").layer!.settings, {});
  const cleared = parse("pfsync: {syncif: null}").layer!;
  assertEquals("pfsync.syncif" in cleared.settings, true);
  assertEquals(cleared.settings["pfsync.syncif"]!.value, undefined);
});

// (name, YAML, exact diagnostics) — every one also yields no layer.
const BAD: [string, string, string[]][] = [
  ["syntax error", "provider: [x\n", [
    "p.yaml:2:1 error: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ]],
  ["duplicate key", "control: /a\ncontrol: /b\n", ["p.yaml:2:1 error: Map keys must be unique"]],
  ["top level not a mapping", "- a\n", [
    "p.yaml:1:1 error: the top level must be a mapping of keys to values",
  ]],
  ["section not a mapping", "log: loud\n", [
    "p.yaml:1:6 error: log must be a mapping of keys to values",
  ]],
  ["unknown top-level key", "provider: memory\nprovidr: x\n", [
    "p.yaml:2:1 error: unknown key 'providr'",
  ]],
  [
    "unknown nested key",
    "carp:\n  - vhid: 1\n    parent: em0\n    advskw: 1\n    addresses: []\n",
    [
      "p.yaml:4:5 error: carp[0]: unknown key 'advskw'",
    ],
  ],
  ["bad provider", "provider: sql\n", [
    "p.yaml:1:11 error: provider must be one of: memory, conntrack",
  ]],
  ["hostid 0", "hostid: 0\n", [
    "p.yaml:1:9 error: hostid must be from 1 to 4294967295 (0 is reserved)",
  ]],
  ["vhid 300", "carp:\n  - vhid: 300\n    parent: em0\n    addresses: [192.0.2.1/24]\n", [
    "p.yaml:2:11 error: vhid must be from 1 to 255",
  ]],
  ["advbase 0", "carp:\n  - {vhid: 1, parent: em0, advbase: 0, addresses: [192.0.2.1/24]}\n", [
    "p.yaml:2:37 error: advbase must be from 1 to 255",
  ]],
  ["advskew 255", "carp:\n  - {vhid: 1, parent: em0, advskew: 255, addresses: [192.0.2.1/24]}\n", [
    "p.yaml:2:37 error: advskew must be from 0 to 254",
  ]],
  ["missing vhid and bad address", "carp:\n  - parent: em0\n    addresses: [192.0.2.300/24]\n", [
    "p.yaml:2:5 error: missing required key 'vhid'",
    "p.yaml:3:17 error: invalid address '192.0.2.300/24' (expected ADDRESS/PREFIX)",
  ]],
  ["numeric pass", "carp:\n  - {vhid: 1, parent: em0, pass: 1234, addresses: [192.0.2.1/24]}\n", [
    'p.yaml:2:34 error: pass must be a string (quote it: pass: "1234")',
  ]],
  ["bad state", "carp:\n  - {vhid: 1, parent: em0, state: up, addresses: [192.0.2.1/24]}\n", [
    "p.yaml:2:35 error: state must be one of: backup, master, init",
  ]],
  ["IPv6 syncpeer and maxupd 256", "pfsync:\n  syncpeer: 2001:db8::1\n  maxupd: 256\n", [
    "p.yaml:2:13 error: pfsync.syncpeer must be an IPv4 address",
    "p.yaml:3:11 error: pfsync.maxupd must be from 0 to 255",
  ]],
  ["hook key not a vhid", "hooks:\n  scripts:\n    '0': /x\n", [
    `p.yaml:3:5 error: hook key '0' must be a vhid (1-255) or "*"`,
  ]],
  ["log level", "log:\n  level: verbose\n", [
    "p.yaml:2:10 error: log.level must be one of: debug, info, warning, error",
  ]],
  ["metrics listen", "metrics: {listen: nope}\n", [
    "p.yaml:1:19 error: metrics.listen must be HOST:PORT, e.g. 127.0.0.1:9734",
  ]],
  ["interface prefix", "interfaces:\n  em0: {addresses: [1.2.3.4/33]}\n", [
    "p.yaml:2:21 error: invalid address '1.2.3.4/33' (expected ADDRESS/PREFIX)",
  ]],
  ["auth without keyfile", "pfsync: {auth: {required: true}}\n", [
    "p.yaml:1:16 error: missing required key 'keyfile'",
  ]],
];

for (const [name, text, diagnostics] of BAD) {
  Deno.test(`parseYamlConfig() reports ${name}`, () => {
    const result = parse(text);
    assertEquals(result.diagnostics, diagnostics);
    assertEquals(result.layer, undefined);
  });
}

Deno.test("parseYamlConfig() warns about a masked passphrase read back", () => {
  const { layer, diagnostics } = parse(
    "carp:\n  - {vhid: 1, parent: em0, pass: <hidden>, addresses: [192.0.2.1/24]}\n",
  );
  assert(layer);
  assertEquals(diagnostics, [
    "p.yaml:2:34 warning: pass is the <hidden> placeholder of 'check --print'; print with " +
    "--show-secrets to keep the passphrase",
  ]);
});
