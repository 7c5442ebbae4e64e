import {
  configToYaml,
  DEFAULTS_RC_CONF,
  deriveHostid,
  hostidFromMachineId,
} from "../../lib/config/mod.ts";
import { formatCidr } from "../../lib/net/address.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { brief, loadFrom, memoryFs } from "./helpers.ts";

const RC = `network_interfaces="em0 em1 em2"
ifconfig_em0="inet 192.0.2.2/24"
ifconfig_em1="inet 198.51.100.2/24"
ifconfig_em2="inet 10.0.0.1/30 up"
cloned_interfaces="carp0 carp1"
ifconfig_carp0="vhid 1 pass secret 192.0.2.1/24"
ifconfig_carp1="vhid 2 advskew 100 pass secret 198.51.100.1/24"
pfsync_enable="YES"
pfsync_syncdev="em2"
`;

Deno.test("loadConfig() builds the model from rc.conf with defaults", async () => {
  const { config, diagnostics } = await loadFrom({ rc: RC }, { rcFiles: ["rc"] });
  assertEquals(diagnostics, []);
  assert(config);
  assertEquals(config.carp.map((v) => [v.interface, v.parent, v.vhid, v.advskew]), [
    ["carp0", "em0", 1, 0],
    ["carp1", "em1", 2, 100],
  ]);
  assertEquals(config.carp[0].source, { file: "rc", line: 6, column: 1 });
  assertEquals(config.pfsync, { maxupd: 128, defer: false, enabled: true, syncif: "em2" });
  assertEquals(config.sysctl, { allow: true, preempt: false, log: 1 });
  assertEquals([config.provider, config.control, config.pidfile], [
    "memory",
    "/var/run/pfsyncd.sock",
    "/var/run/pfsyncd.pid",
  ]);
  assertEquals(config.log, { target: "stderr", level: "info", format: "text" });
  assertEquals(config.hooks, { scripts: {}, timeoutMs: 10_000 });
  assertEquals(config.hostid, undefined);
  assertEquals(config.interfaces.em2.addresses.map(formatCidr), ["10.0.0.1/30"]);
});

Deno.test("loadConfig() reads the default file list and rc_conf_files", async () => {
  const files = {
    [DEFAULTS_RC_CONF]: 'rc_conf_files="/a /b"\nfoo() { :; }\npfsync_enable="NO"\n',
    "/a": 'pfsync_enable="YES"\nifconfig_pfsync0="syncdev em2"\nifconfig_em2="up"',
    "/etc/rc.conf": 'pfsync_enable="garbage"',
    "/etc/sysctl.conf": "net.inet.carp.preempt=1\n",
    "/usr/local/etc/pfsyncd.yaml": "provider: conntrack\n",
  };
  const { config, diagnostics } = await loadFrom(files);
  // /b is missing (fine), /etc/rc.conf is not in rc_conf_files, defaults' warnings are quiet.
  assertEquals(diagnostics, []);
  assertEquals(config?.pfsync.enabled, true);
  assertEquals(config?.pfsync.syncif, "em2");
  assertEquals(config?.sysctl.preempt, true);
  assertEquals(config?.provider, "conntrack");
});

Deno.test("loadConfig() without rc_conf_files reads /etc/rc.conf and rc.conf.local", async () => {
  const { config } = await loadFrom({
    "/etc/rc.conf": 'pfsyncd_flags="-a"',
    "/etc/rc.conf.local": 'pfsyncd_enable="YES"',
  });
  assertEquals(config?.rcd, { enable: true, flags: "-a" });
});

Deno.test("loadConfig() follows pfsyncd_config unless -c is given", async () => {
  const files = { rc: 'pfsyncd_config="/p.yaml"', "/p.yaml": "control: /x.sock", "/q.yaml": "" };
  assertEquals((await loadFrom(files, { rcFiles: ["rc"] })).config?.control, "/x.sock");
  const explicit = await loadFrom(files, { rcFiles: ["rc"], yamlFile: "/q.yaml" });
  assertEquals(explicit.config?.control, "/var/run/pfsyncd.sock");
  const missing = await loadFrom({ rc: 'pfsyncd_config="/gone.yaml"' }, { rcFiles: ["rc"] });
  assertEquals(missing.diagnostics.map(brief), [
    "/gone.yaml:0:0 error: cannot read /gone.yaml: no such file",
  ]);
});

Deno.test("loadConfig() reports explicit files that are missing", async () => {
  const result = await loadFrom({}, { rcFiles: ["/x/rc"], sysctlFile: "/x/s", yamlFile: "/x/y" });
  assertEquals(result.config, undefined);
  assertEquals(result.diagnostics.map(brief), [
    "/x/rc:0:0 error: cannot read /x/rc: no such file",
    "/x/s:0:0 error: cannot read /x/s: no such file",
    "/x/y:0:0 error: cannot read /x/y: no such file",
  ]);
});

// (name, files, exact diagnostics) for checks on the merged model.
const SEMANTIC: [string, Record<string, string>, string[]][] = [
  ["CARP host without addresses", {
    rc: 'ifconfig_em0="inet 192.0.2.2/24"\nifconfig_em0_alias0="vhid 3 advskew 5"',
  }, [
    "rc:2:1 error: carp vhid 3 on em0 has no addresses (a CARP host needs at least one)",
  ]],
  ["passphrase over 19 bytes", {
    rc: 'ifconfig_em0="inet 192.0.2.2/24"\n' +
      'ifconfig_em0_alias0="inet vhid 1 pass twenty-bytes-long-xx alias 192.0.2.9/32"',
  }, [
    "rc:2:39 warning: passphrase is 20 bytes; only the first 19 are used, as the kernel truncates it",
  ]],
  ["duplicate vhid on one parent", {
    rc: 'ifconfig_em0="inet 192.0.2.2/24"\ncloned_interfaces="carp0 carp1"\n' +
      'ifconfig_carp0="vhid 1 192.0.2.1/24"\nifconfig_carp1="vhid 1 192.0.2.3/24"',
  }, ["rc:4:22 error: duplicate vhid 1 on em0 (first defined at rc:3:1)"]],
  ["unknown syncif", { rc: 'ifconfig_em0="up"\npfsync_enable="YES"\npfsync_syncdev="em9"' }, [
    "rc:3:17 error: unknown syncif 'em9': not an interface named in the configuration (em0)",
  ]],
  ["unknown carpdev", {
    rc:
      'ifconfig_em0="up"\ncloned_interfaces="carp0"\nifconfig_carp0="vhid 1 carpdev em7 192.0.2.1/24"',
  }, ["rc:3:32 error: parent 'em7' of carp vhid 1 on em7 is not a configured interface"]],
  ["syncpeer not IPv4", {
    rc: 'ifconfig_em2="up"\nifconfig_pfsync0="syncdev em2 syncpeer 2001:db8::2 up"',
  }, [
    "rc:2:40 error: syncpeer must be an IPv4 address, not '2001:db8::2'",
  ]],
  ["pfsync enabled without syncdev", { rc: 'pfsync_enable="YES"' }, [
    "rc:1:1 warning: pfsync is enabled without a sync interface (syncdev): no states are sent or received",
  ]],
  ["YAML-only appliance: syncif not flagged", { y: "pfsync: {syncif: em2}" }, []],
  ["YAML interfaces make syncif checked", { y: "interfaces: {em0: {}}\npfsync: {syncif: em2}" }, [
    "y:2:18 error: unknown syncif 'em2': not an interface named in the configuration (em0)",
  ]],
  [
    "YAML contradicting rc.conf wins with a warning",
    {
      rc: 'ifconfig_em2="up"\nifconfig_em3="up"\npfsync_enable="YES"\npfsync_syncdev="em2"\n' +
        'ifconfig_em0="inet 192.0.2.2/24"\ncloned_interfaces="carp0"\n' +
        'ifconfig_carp0="vhid 1 advskew 10 pass a 192.0.2.1/24"',
      y: "pfsync:\n  syncif: em3\ncarp:\n  - {vhid: 1, parent: em0, advskew: 20, pass: b, " +
        "addresses: [192.0.2.1/24]}",
      s: "net.inet.carp.preempt=1",
    },
    [
      "y:2:11 warning: pfsync.syncif: YAML value 'em3' overrides rc.conf value 'em2' at rc:4:17",
      "y:4:37 warning: carp vhid 1 on em0: advskew: YAML value 20 overrides rc.conf value 10 at rc:7:32",
      "y:4:47 warning: carp vhid 1 on em0: pass: YAML value (not shown) overrides rc.conf value " +
      "(not shown) at rc:7:40",
    ],
  ],
  ["YAML sysctl contradicting sysctl.conf", {
    s: "net.inet.carp.preempt=1",
    y: "sysctl: {preempt: false}",
  }, [
    "y:1:19 warning: sysctl.preempt: YAML value false overrides sysctl.conf value true at s:1:23",
  ]],
  ["same value in both is no contradiction", {
    rc: 'ifconfig_em2="up"\npfsync_syncdev="em2"\npfsync_enable="YES"',
    y: "pfsync: {syncif: em2}",
  }, []],
];

for (const [name, files, diagnostics] of SEMANTIC) {
  Deno.test(`loadConfig() validation: ${name}`, async () => {
    const result = await loadFrom({ rc: "", s: "", y: "", ...files }, {
      rcFiles: ["rc"],
      sysctlFile: "s",
      yamlFile: "y",
    });
    assertEquals(result.diagnostics.map(brief), diagnostics);
    assertEquals(result.config === undefined, diagnostics.some((d) => d.includes(" error: ")));
  });
}

Deno.test("loadConfig() YAML wins field by field, keeping what it does not state", async () => {
  const { config } = await loadFrom({
    rc: 'ifconfig_em0="inet 192.0.2.2/24"\ncloned_interfaces="carp0"\n' +
      'ifconfig_carp0="vhid 1 advbase 5 advskew 10 pass a 192.0.2.1/24"',
    y: "carp:\n  - {vhid: 1, parent: em0, advskew: 20, addresses: [192.0.2.1/24]}",
  }, { rcFiles: ["rc"], yamlFile: "y" });
  assertEquals(config?.carp.map((v) => [v.interface, v.advbase, v.advskew, v.pass]), [
    ["carp0", 5, 20, "a"],
  ]);
});

Deno.test("loadConfig() command-line overrides win silently", async () => {
  const { config, diagnostics } = await loadFrom({ y: "control: /a.sock\nlog: {level: error}" }, {
    rcFiles: [],
    yamlFile: "y",
    overrides: { control: "/b.sock", logLevel: "debug", provider: "conntrack", logFormat: "json" },
  });
  assertEquals(diagnostics, []);
  assertEquals([config?.control, config?.log.level, config?.log.format, config?.provider], [
    "/b.sock",
    "debug",
    "json",
    "conntrack",
  ]);
});

Deno.test("loadConfig() round trip: printed YAML reads back to the same model", async () => {
  const first = await loadFrom({
    rc: RC + 'ifconfig_em0_alias0="inet6 vhid 9 state backup alias 2001:db8::9/64"\n' +
      'ifconfig_pfsync0="syncpeer 10.0.0.2 maxupd 7 defer"\npfsyncd_flags="-q"\n',
    s: "net.inet.carp.preempt=1\nnet.inet.carp.demotion=3\nnet.inet.carp.log=2\n",
    y: 'hostid: 0x0badcafe\nhooks: {scripts: {"*": /h}}\nmetrics: {listen: "[::1]:9734"}\n' +
      "pfsync: {auth: {keyfile: /k, required: false}}\n",
  }, { rcFiles: ["rc"], sysctlFile: "s", yamlFile: "y" });
  assertEquals(first.diagnostics, []);
  assert(first.config);
  const printed = configToYaml(first.config, { showSecrets: true });
  const second = await loadFrom({ "p.yaml": printed }, { rcFiles: [], yamlFile: "p.yaml" });
  assertEquals(second.diagnostics, []);
  assert(second.config);
  assertEquals(configToYaml(second.config, { showSecrets: true }), printed);
  const strip = (c: typeof first.config) => ({
    ...c,
    carp: c.carp.map(({ source: _s, sources: _f, ...rest }) => rest),
  });
  assertEquals(strip(second.config), strip(first.config));
});

Deno.test("configToYaml() masks passphrases unless asked", async () => {
  const { config } = await loadFrom({ rc: RC }, { rcFiles: ["rc"] });
  assert(config);
  const masked = configToYaml(config);
  assert(masked.includes("pass: <hidden>") && !masked.includes("secret"));
  assert(configToYaml(config, { showSecrets: true }).includes("pass: secret"));
});

Deno.test("hostidFromMachineId() is stable, nonzero and differs between machines", async () => {
  const a = await hostidFromMachineId("4c4c4544003548108052b4c04f4e3732\n");
  assertEquals(a, await hostidFromMachineId("4c4c4544003548108052b4c04f4e3732"));
  assert(a !== 0 && a <= 0xffffffff && Number.isInteger(a));
  assert(a !== await hostidFromMachineId("4c4c4544003548108052b4c04f4e3733"));
});

Deno.test("deriveHostid() uses the first readable file and loadConfig() applies it", async () => {
  const read = memoryFs({ "/etc/hostid": "uuid-b", "/m": "  " });
  assertEquals(
    await deriveHostid(["/none", "/m", "/etc/hostid"], read),
    await hostidFromMachineId("uuid-b"),
  );
  assertEquals(await deriveHostid(["/none"], read), undefined);
  const { config } = await loadFrom({ "/id": "abc" }, { rcFiles: [], machineIdFiles: ["/id"] });
  assertEquals(config?.hostid, await hostidFromMachineId("abc"));
  const yaml = await loadFrom({ "/id": "abc", y: "hostid: 5" }, {
    rcFiles: [],
    yamlFile: "y",
    machineIdFiles: ["/id"],
  });
  assertEquals(yaml.config?.hostid, 5);
});

// Names that are also Object.prototype members once matched the prototype instead of nothing
// (found by the config fuzzer: `ifconfig_constructor` in rc.conf and YAML crashed the merge).
Deno.test("loadConfig() treats prototype member names as plain names", async () => {
  for (const name of ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"]) {
    const rc = `ifconfig_${name}="inet 192.0.2.2/24"\n` +
      `ifconfig_${name}_alias0="inet vhid 1 pass s alias 192.0.2.1/32"\n`;
    const yaml = `interfaces:\n  ${name}: {addresses: [192.0.2.2/24]}\n`;
    const sysctl = `net.inet.carp.${name}=1\n`;
    const { config, diagnostics } = await loadFrom(
      { rc, yaml, sysctl },
      { rcFiles: ["rc"], yamlFile: "yaml", sysctlFile: "sysctl" },
    );
    const text = diagnostics.map(brief);
    assert(config, `${name}: ${text.join("; ")}`);
    assertEquals(config.carp.map((v) => [v.vhid, v.parent]), [[1, name]], name);
    assert(
      text.includes(`sysctl:1:1 warning: unknown sysctl 'net.inet.carp.${name}' ignored`),
      text.join("\n"),
    );
    assert(!text.some((d) => d.includes("native code")), text.join("\n"));
  }
});
