import type { Command } from "commander";
import { configToJson, configToYaml, hasErrors, loadConfig } from "../config/mod.ts";
import {
  addConfigOptions,
  type ConfigFlags,
  formatDiagnostics,
  loadOptionsFromFlags,
  summary,
} from "./config_options.ts";
import { CliExit, EXIT_FAILURE } from "./exit.ts";

interface CheckFlags extends ConfigFlags {
  print?: boolean;
  showSecrets?: boolean;
  json?: boolean;
}

/** `pfsyncd check`: exit 0 when valid (warnings allowed), 1 on errors, 2 on usage errors. */
export function registerCheck(program: Command): void {
  const command = program
    .command("check")
    .description("validate rc.conf, sysctl.conf and pfsyncd.yaml; report file:line:column");
  addConfigOptions(command)
    .option("--print", "print the effective configuration as YAML")
    .option("--show-secrets", "do not mask CARP passphrases in --print/--json output")
    .option("--json", "print {ok, diagnostics, config} as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  pfsyncd check\n" +
        "  pfsyncd check -f rc/rc.conf.example -s rc/sysctl.conf.example " +
        "-c rc/pfsyncd.yaml.example --print",
    )
    .action(async (flags: CheckFlags) => {
      const result = await loadConfig(loadOptionsFromFlags(flags));
      const ok = !hasErrors(result.diagnostics);
      const secrets = { showSecrets: flags.showSecrets === true };
      if (flags.json) {
        const diagnostics = result.diagnostics.map((d) => ({
          file: d.file,
          line: d.line,
          column: d.column,
          severity: d.severity,
          message: d.message,
        }));
        const config = result.config ? configToJson(result.config, secrets) : null;
        console.log(JSON.stringify({ ok, diagnostics, config }, null, 2));
      } else {
        if (result.diagnostics.length > 0) {
          console.error(formatDiagnostics(result.diagnostics, result.texts));
        }
        if (flags.print && result.config) {
          console.log(configToYaml(result.config, secrets).trimEnd());
        }
      }
      if (!ok) {
        throw new CliExit(
          EXIT_FAILURE,
          flags.json ? "" : `pfsyncd check: ${summary(result.diagnostics)}`,
        );
      }
      if (!flags.json && !flags.print) {
        console.error(`pfsyncd check: configuration is valid (${summary(result.diagnostics)})`);
      }
    });
}
