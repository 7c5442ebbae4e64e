/**
 * `pfsyncd demote [+N|-N]`: adjust the operator's share of the CARP demotion
 * counter (FreeBSD's `sysctl net.inet.carp.demotion=N` adds N too); without an
 * argument it only shows the current demotion and its reasons.
 */
import type { Command } from "commander";
import { callAgent } from "../control/client.ts";
import { renderDemotion } from "../control/render.ts";
import { CliExit, EXIT_USAGE } from "./exit.ts";
import { addControlOption, type ControlOptions, withAgent, writeOut } from "./status.ts";

/** "+10" → 10, "-5" → -5, "3" → 3; anything else is a usage error. */
export function parseDelta(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[+-]?\d{1,3}$/.test(text) || Math.abs(Number(text)) > 255) {
    throw new CliExit(EXIT_USAGE, `pfsyncd demote: "${text}" is not +N or -N (0-255)`);
  }
  return Number(text);
}

export function registerDemote(program: Command): void {
  const command = program
    .command("demote")
    .argument("[delta]", "+N to demote, -N to undo; omit to show the demotion")
    .description("raise or lower the CARP demotion of every vhid on this node")
    .addHelpText(
      "after",
      "\nExamples:\n  pfsyncd demote +50   # let a peer with preempt take over\n" +
        "  pfsyncd demote -50\n  pfsyncd demote",
    );
  addControlOption(command).action(async (delta: string | undefined, options: ControlOptions) => {
    const value = parseDelta(delta);
    const demotion = await withAgent(() => callAgent(options.control, "demote", { delta: value }));
    await writeOut(renderDemotion(demotion).join("\n") + "\n");
  });
}
