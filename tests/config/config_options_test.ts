import { Command } from "commander";
import {
  addConfigOptions,
  addOverrideOptions,
  applyOverrides,
  type ConfigFlags,
  loadOptionsFromFlags,
} from "../../lib/cli/config_options.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { loadFrom } from "./helpers.ts";

function parseFlags(argv: string[]): ConfigFlags {
  let seen: ConfigFlags = {};
  const command = addOverrideOptions(addConfigOptions(new Command("x")))
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action((flags: ConfigFlags) => {
      seen = flags;
    });
  command.parse(argv, { from: "user" });
  return seen;
}

// (argv, loadConfig options)
const CASES: [string[], Record<string, unknown>][] = [
  [[], {}],
  [["-f", "a", "--rc-conf", "b", "-s", "s", "-c", "y"], {
    rcFiles: ["a", "b"],
    sysctlFile: "s",
    yamlFile: "y",
  }],
  [["--control", "/c", "--pidfile", "/p", "--provider", "conntrack", "--log-level", "debug"], {
    overrides: { control: "/c", pidfile: "/p", provider: "conntrack", logLevel: "debug" },
  }],
  [["--log-format", "json"], { overrides: { logFormat: "json" } }],
];

for (const [argv, expected] of CASES) {
  Deno.test(`loadOptionsFromFlags() ${argv.join(" ") || "(no flags)"}`, () => {
    assertEquals(loadOptionsFromFlags(parseFlags(argv)) as Record<string, unknown>, expected);
  });
}

Deno.test("addOverrideOptions() rejects values outside the choices", () => {
  let failed = false;
  try {
    parseFlags(["--provider", "pf"]);
  } catch {
    failed = true;
  }
  assert(failed, "--provider pf must be a usage error");
});

Deno.test("applyOverrides() replaces only the flagged fields", async () => {
  const { config } = await loadFrom({ y: "control: /a\nlog: {level: error, target: syslog}" }, {
    rcFiles: [],
    yamlFile: "y",
  });
  assert(config);
  const next = applyOverrides(config, { logLevel: "debug", pidfile: "/p" });
  assertEquals([next.control, next.pidfile, next.log], ["/a", "/p", {
    level: "debug",
    target: "syslog",
    format: "text",
  }]);
  assertEquals(config.log.level, "error");
});
