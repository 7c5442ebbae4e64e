/**
 * `pfsyncd maintenance on|off`: demote to the maximum so the peer takes over
 * without loss. The agent persists the mode across restarts until it is off.
 */
import { Argument, type Command } from "commander";
import { callAgent } from "../control/client.ts";
import { renderDemotion } from "../control/render.ts";
import { addControlOption, type ControlOptions, withAgent, writeOut } from "./status.ts";

export function registerMaintenance(program: Command): void {
  const command = program
    .command("maintenance")
    .addArgument(new Argument("<mode>", "on or off").choices(["on", "off"]))
    .description("hand every vhid to the peer (on) or take part in elections again (off)")
    .addHelpText(
      "after",
      "\nStays on across restarts until turned off.\n\n" +
        "Examples:\n  pfsyncd maintenance on\n  pfsyncd maintenance off",
    );
  addControlOption(command).action(async (mode: "on" | "off", options: ControlOptions) => {
    const on = mode === "on";
    const demotion = await withAgent(() => callAgent(options.control, "maintenance", { on }));
    await writeOut(`maintenance ${on ? "on" : "off"}\n${renderDemotion(demotion).join("\n")}\n`);
  });
}
