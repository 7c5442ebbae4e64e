import { configToYaml } from "../../lib/config/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { loadFrom } from "./helpers.ts";

const YAML = `interfaces:
  em0: {addresses: [192.0.2.2/24]}
carp:
  - {vhid: 7, parent: em0, pass: s, virtual_mac: true, addresses: [192.0.2.1/24]}
  - {vhid: 8, parent: em0, pass: s, virtual_mac: false, addresses: [192.0.2.3/24]}
  - {vhid: 9, parent: em0, pass: s, addresses: [192.0.2.4/24]}
`;

async function load(yaml: string) {
  const result = await loadFrom({ y: yaml }, { rcFiles: [], yamlFile: "y" });
  return {
    config: result.config,
    diagnostics: result.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity}: ${d.message}`),
  };
}

Deno.test("loadConfig() carp virtual_mac: true, false, absent (off by default)", async () => {
  const { config, diagnostics } = await load(YAML);
  assertEquals(diagnostics, []);
  assert(config);
  assertEquals(config.carp.map((v) => [v.vhid, v.virtualMac ?? false]), [
    [7, true],
    [8, false],
    [9, false],
  ]);
});

Deno.test("loadConfig() carp virtual_mac must be a boolean", async () => {
  const { config, diagnostics } = await load(YAML.replace("virtual_mac: true", "virtual_mac: 1"));
  assertEquals(config, undefined);
  assert(
    diagnostics.some((d) => d.includes("error") && d.includes("virtual_mac must be true or false")),
    diagnostics.join("\n"),
  );
});

Deno.test("configToYaml() prints virtual_mac only when on, and reads back the same", async () => {
  const first = await load(YAML);
  assert(first.config);
  const printed = configToYaml(first.config, { showSecrets: true });
  assertEquals(printed.split("virtual_mac: true").length, 2, printed);
  assert(!printed.includes("virtual_mac: false"), printed);
  const second = await load(printed);
  assertEquals(second.diagnostics, []);
  assertEquals(
    second.config?.carp.map((v) => v.virtualMac ?? false),
    first.config.carp.map((v) => v.virtualMac ?? false),
  );
  assertEquals(configToYaml(second.config!, { showSecrets: true }), printed);
});
