import { configToYaml } from "../../lib/config/mod.ts";
import { formatCidr } from "../../lib/net/address.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { loadFrom } from "./helpers.ts";

const FULL = `provider: conntrack
conntrack:
  protocols: [tcp, UDP, icmp6, 47]
  include: [10.0.0.0/8, "2001:db8::/32"]
  exclude: [10.9.0.0/16]
  tcp_states: [established, SYN-SENT, time_wait]
  sync_own: true
  fix_events_sysctl: true
  sweep_interval_ms: 45000
`;

async function load(yaml: string) {
  const result = await loadFrom({ y: yaml }, { rcFiles: [], yamlFile: "y" });
  return {
    config: result.config,
    diagnostics: result.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity}: ${d.message}`),
  };
}

Deno.test("loadConfig() reads every conntrack key, names normalised", async () => {
  const { config, diagnostics } = await load(FULL);
  assertEquals(diagnostics, []);
  assert(config);
  const c = config.conntrack;
  assertEquals(c.protocols, ["tcp", "udp", "ipv6-icmp", "47"]);
  assertEquals(c.include.map(formatCidr), ["10.0.0.0/8", "2001:db8::/32"]);
  assertEquals(c.exclude.map(formatCidr), ["10.9.0.0/16"]);
  assertEquals(c.tcpStates, ["established", "syn_sent", "time_wait"]);
  assertEquals([c.syncOwn, c.fixEventsSysctl, c.sweepIntervalMs], [true, true, 45_000]);
});

Deno.test("loadConfig() conntrack defaults: everything synced, own flows left out, 30 s sweep", async () => {
  const { config, diagnostics } = await load("provider: conntrack\n");
  assertEquals(diagnostics, []);
  assertEquals(config?.conntrack, {
    include: [],
    exclude: [],
    syncOwn: false,
    fixEventsSysctl: false,
    sweepIntervalMs: 30_000,
  });
});

// (yaml, expected diagnostics)
const BAD: [string, string[]][] = [
  ["provider: conntrack\nconntrack: {protocols: [tcp, sctpx]}\n", [
    "2:30 error: unknown protocol 'sctpx' (a name: tcp, udp, icmp, ipv6-icmp, or 0-255)",
  ]],
  ["provider: conntrack\nconntrack: {protocols: [300]}\n", [
    "2:25 error: unknown protocol '300' (a name: tcp, udp, icmp, ipv6-icmp, or 0-255)",
  ]],
  ["provider: conntrack\nconntrack:\n  include: [10.0.0.0/33]\n", [
    "3:13 error: invalid address '10.0.0.0/33' (expected ADDRESS/PREFIX)",
  ]],
  ["provider: conntrack\nconntrack:\n  tcp_states: [established, open]\n", [
    "3:29 error: unknown TCP state 'open' (one of: none, syn_sent, syn_recv, established, " +
    "fin_wait, close_wait, last_ack, time_wait, close, syn_sent2)",
  ]],
  ["provider: conntrack\nconntrack: {sweep_interval_ms: 500}\n", [
    "2:32 error: conntrack.sweep_interval_ms must be 0 (off) or at least 1000",
  ]],
  ["provider: conntrack\nconntrack: {sync_own: yes}\n", [
    "2:23 error: conntrack.sync_own must be true or false",
  ]],
  ["provider: conntrack\nconntrack: {filters: []}\n", [
    "2:13 error: conntrack: unknown key 'filters'",
  ]],
  ["conntrack: {sync_own: true}\n", [
    "1:23 warning: the conntrack settings apply only with provider: conntrack (the provider is " +
    "memory)",
  ]],
  ["provider: conntrack\nconntrack: {protocols: [udp], tcp_states: [established]}\n", [
    "2:43 warning: conntrack.tcp_states has no effect: tcp is not among conntrack.protocols",
  ]],
];

for (const [yaml, expected] of BAD) {
  Deno.test(`loadConfig() conntrack diagnostic: ${expected[0].slice(5, 70)}`, async () => {
    const { diagnostics } = await load(yaml);
    assertEquals(diagnostics, expected);
  });
}

Deno.test("loadConfig() conntrack section: printed YAML reads back to the same model", async () => {
  const first = await load(FULL);
  assert(first.config);
  const printed = configToYaml(first.config);
  assert(printed.includes("conntrack:\n"), printed);
  const second = await load(printed);
  assertEquals(second.diagnostics, []);
  assertEquals(second.config?.conntrack, first.config.conntrack);
  assertEquals(configToYaml(second.config!), printed);
});

Deno.test("configToYaml() leaves the default conntrack section out with the memory provider", async () => {
  const { config } = await load("control: /c\n");
  assert(config);
  assert(!configToYaml(config).includes("conntrack"));
  const { config: ct } = await load("provider: conntrack\n");
  assert(configToYaml(ct!).includes("sweep_interval_ms: 30000"));
});
