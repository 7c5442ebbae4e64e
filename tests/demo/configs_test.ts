/** The demo's generated rc.conf / sysctl.conf / YAML load cleanly into the pair it describes. */
import { assertEquals } from "../helpers/assert.ts";
import { loadConfig } from "../../lib/config/mod.ts";
import { formatCidr } from "../../lib/net/address.ts";
import { FIREWALLS, rcConf, SYSCTL_CONF, yaml } from "../../lib/demo/configs.ts";

for (const fw of FIREWALLS) {
  Deno.test(`demo configs: ${fw.label} loads with no diagnostics`, async () => {
    const files: Record<string, string> = {
      "/demo/rc.conf": rcConf(fw),
      "/demo/sysctl.conf": SYSCTL_CONF,
      "/demo/pfsyncd.yaml": yaml(fw, "/demo"),
    };
    const result = await loadConfig({
      rcFiles: ["/demo/rc.conf"],
      sysctlFile: "/demo/sysctl.conf",
      yamlFile: "/demo/pfsyncd.yaml",
      machineIdFiles: [],
      readFile: (path) => Promise.resolve(files[path]),
    });
    assertEquals(result.diagnostics.map((d) => d.message), []);
    const config = result.config!;
    assertEquals(
      config.carp.map((v) => [v.vhid, v.parent, v.advskew, v.pass, v.addresses.map(formatCidr)]),
      [
        [1, "eth0", fw.advskew, "demo-lan-wan", ["192.0.2.1/24"]],
        [2, "eth1", fw.advskew, "demo-lan-wan", ["198.51.100.1/24"]],
      ],
    );
    assertEquals([config.pfsync.enabled, config.pfsync.syncif], [true, "sync0"]);
    assertEquals(config.sysctl.preempt, true);
    assertEquals([config.hostid, config.provider], [fw.hostid, "memory"]);
    assertEquals(config.control, `/demo/${fw.label}.sock`);
  });
}
