/**
 * `pfsyncd watch`: the live stream of state changes and CARP transitions that
 * `tcpdump -i pfsync0` gave on OpenBSD. Runs until interrupted or until the
 * agent goes away (exit 1 then, so scripts notice).
 */
import type { Command } from "commander";
import { ControlClient } from "../control/client.ts";
import { renderWatchEvent } from "../control/render.ts";
import { addControlOption, type ControlOptions, withAgent, writeOut } from "./status.ts";

export function registerWatch(program: Command): void {
  const command = program
    .command("watch")
    .description("stream state inserts/updates/deletes (with origin) and CARP transitions")
    .option("--json", "one JSON event a line")
    .addHelpText(
      "after",
      "\nExamples:\n  pfsyncd watch\n  pfsyncd watch --json | grep '\"carp\"'",
    );
  addControlOption(command).action(async (options: ControlOptions & { json?: boolean }) => {
    await withAgent(async () => {
      const client = await ControlClient.connect(options.control);
      for await (const event of client.stream("watch", {})) {
        await writeOut((options.json ? JSON.stringify(event) : renderWatchEvent(event)) + "\n");
      }
    });
  });
}
