/** pfsync.sequence, pfsync.bulk_purge and pfsync.repair in pfsyncd.yaml: absent (engine default on), set, printed, refused. */
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

Deno.test("loadConfig() pfsync.sequence, bulk_purge and repair: unset, false, true", async () => {
  type B = boolean | undefined;
  const cases: [string, B, B, B][] = [
    ["", undefined, undefined, undefined],
    [", sequence: false", false, undefined, undefined],
    [", bulk_purge: false", undefined, false, undefined],
    [", repair: false", undefined, undefined, false],
    [", sequence: true, bulk_purge: true, repair: true", true, true, true],
  ];
  for (const [text, sequence, bulkPurge, repair] of cases) {
    const { config, diagnostics } = await load(text);
    assertEquals(diagnostics, [], text);
    assert(config, text);
    assertEquals(
      [config.pfsync.sequence, config.pfsync.bulkPurge, config.pfsync.repair],
      [sequence, bulkPurge, repair],
      text,
    );
    const printed = configToYaml(config);
    assertEquals(/sequence:/.test(printed), sequence !== undefined, printed);
    assertEquals(/bulk_purge:/.test(printed), bulkPurge !== undefined, printed);
    assertEquals(/repair:/.test(printed), repair !== undefined, printed);
  }
});

Deno.test("loadConfig() refuses a pfsync.sequence, bulk_purge or repair that is not a boolean", async () => {
  for (const text of [", sequence: 1", ", bulk_purge: yes please", ", repair: 0"]) {
    const { config, diagnostics } = await load(text);
    assertEquals(config, undefined, text);
    assert(
      diagnostics.some((d) =>
        d.includes("error") && /(sequence|bulk_purge|repair) must be true or false/.test(d)
      ),
      diagnostics.join("\n"),
    );
  }
});
