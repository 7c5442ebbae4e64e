/**
 * `pfsyncd status`, plus what every client command shares: the `--control`
 * option and the mapping of control-socket failures to exit codes (1 when the
 * agent is unreachable or refuses, 2 when the agent says the request was bad).
 */
import type { Command } from "commander";
import { AgentNotRunningError, callAgent } from "../control/client.ts";
import { ControlError, DEFAULT_CONTROL_PATH } from "../control/protocol.ts";
import { renderStatus } from "../control/render.ts";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./exit.ts";

export interface ControlOptions {
  control: string;
}

export function addControlOption(command: Command): Command {
  return command.option(
    "--control <path>",
    "control socket of the running agent",
    DEFAULT_CONTROL_PATH,
  );
}

/** Runs a client action, turning control failures into CliExit with a clear message. */
export async function withAgent<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof AgentNotRunningError) {
      throw new CliExit(EXIT_FAILURE, `pfsyncd: ${error.message}`);
    }
    if (error instanceof ControlError) {
      const code = error.code === "invalid_params" ? EXIT_USAGE : EXIT_FAILURE;
      throw new CliExit(code, `pfsyncd: the agent answered: ${error.message}`);
    }
    throw error;
  }
}

/** Writes text to stdout in one call; large listings would be slow line by line. */
export async function writeOut(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += await Deno.stdout.write(bytes.subarray(offset));
}

export function registerStatus(program: Command): void {
  const command = program
    .command("status")
    .description("show CARP roles, pfsync sync state, demotion and protocol counters")
    .option("--json", "print the status as JSON (stable keys)")
    .addHelpText(
      "after",
      "\nExamples:\n  pfsyncd status\n  pfsyncd status --json --control /tmp/pfsyncd.sock",
    );
  addControlOption(command).action(async (options: ControlOptions & { json?: boolean }) => {
    const status = await withAgent(() => callAgent(options.control, "status", {}));
    await writeOut(options.json ? JSON.stringify(status, null, 2) + "\n" : renderStatus(status));
  });
}
