/** `pfsyncd resync`: ask the peers for a full bulk update now. */
import type { Command } from "commander";
import { callAgent } from "../control/client.ts";
import { CliExit, EXIT_FAILURE } from "./exit.ts";
import { addControlOption, type ControlOptions, withAgent, writeOut } from "./status.ts";

export function registerResync(program: Command): void {
  const command = program
    .command("resync")
    .description("request a bulk update of the whole state table from the peers")
    .addHelpText(
      "after",
      "\nProgress shows in 'pfsyncd status' (bulk update line).\n\nExample:\n  pfsyncd resync",
    );
  addControlOption(command).action(async (options: ControlOptions) => {
    const result = await withAgent(() => callAgent(options.control, "resync", {}));
    if (!result.requested) {
      throw new CliExit(EXIT_FAILURE, "pfsyncd: the agent did not send a bulk update request");
    }
    await writeOut("bulk update requested\n");
  });
}
