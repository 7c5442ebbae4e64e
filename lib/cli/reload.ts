/**
 * `pfsyncd reload`: the same as SIGHUP, but the answer says whether the new
 * configuration was applied; a broken file leaves the running one in place and
 * its diagnostics come back as the error (exit 1).
 */
import type { Command } from "commander";
import { callAgent } from "../control/client.ts";
import { CliExit, EXIT_FAILURE } from "./exit.ts";
import { addControlOption, type ControlOptions, withAgent, writeOut } from "./status.ts";

export function registerReload(program: Command): void {
  const command = program
    .command("reload")
    .description("re-read the configuration; keeps the running one if the new one has errors")
    .addHelpText("after", "\nExample:\n  pfsyncd reload --control /var/run/pfsyncd.sock");
  addControlOption(command).action(async (options: ControlOptions) => {
    const result = await withAgent(() => callAgent(options.control, "reload", {}));
    if (!result.reloaded) {
      throw new CliExit(EXIT_FAILURE, "pfsyncd: the agent kept its running configuration");
    }
    const changes = result.changes.length === 0 ? ["no changes"] : result.changes;
    await writeOut(`configuration reloaded\n${changes.map((c) => `  ${c}`).join("\n")}\n`);
  });
}
