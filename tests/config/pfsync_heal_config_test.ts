/** pfsync.sequence and pfsync.bulk_purge in pfsyncd.yaml: absent (engine default on), set, printed, refused. */
import { configToYaml } from "../../lib/config/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { loadFrom } from "./helpers.ts";

async function load(pfsync: string) {
  const yaml = `pfsync: {syncif: em2${pfsync}}\n`;
  const result = await loadFrom({ y: yaml }, { rcFiles: [], yamlFile: "y" });
  return {
    config: result.config,
    diagnostics: result.diagnostics.map((d) => `${d.line}:${d.column} ${d.severity}: ${d.message}`),
  };
}

Deno.test("loadConfig() pfsync.sequence and pfsync.bulk_purge: unset, false, true", async () => {
  const cases: [string, boolean | undefined, boolean | undefined][] = [
    ["", undefined, undefined],
    [", sequence: false", false, undefined],
    [", bulk_purge: false", undefined, false],
    [", sequence: true, bulk_purge: true", true, true],
  ];
  for (const [text, sequence, bulkPurge] of cases) {
    const { config, diagnostics } = await load(text);
    assertEquals(diagnostics, [], text);
    assert(config, text);
    assertEquals([config.pfsync.sequence, config.pfsync.bulkPurge], [sequence, bulkPurge], text);
    const printed = configToYaml(config);
    assertEquals(/sequence:/.test(printed), sequence !== undefined, printed);
    assertEquals(/bulk_purge:/.test(printed), bulkPurge !== undefined, printed);
  }
});

Deno.test("loadConfig() refuses a pfsync.sequence or bulk_purge that is not a boolean", async () => {
  for (const text of [", sequence: 1", ", bulk_purge: yes please"]) {
    const { config, diagnostics } = await load(text);
    assertEquals(config, undefined, text);
    assert(
      diagnostics.some((d) =>
        d.includes("error") && /(sequence|bulk_purge) must be true or false/.test(d)
      ),
      diagnostics.join("\n"),
    );
  }
});
