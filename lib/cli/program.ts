import { Command, CommanderError } from "commander";
import { VERSION } from "../version.ts";
import { CliExit, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit.ts";
import { registerVersion } from "./version.ts";
import { registerRun } from "./run.ts";
import { registerCheck } from "./check.ts";
import { registerStatus } from "./status.ts";
import { registerStates } from "./states.ts";
import { registerWatch } from "./watch.ts";
import { registerDemote } from "./demote.ts";
import { registerResync } from "./resync.ts";
import { registerMaintenance } from "./maintenance.ts";
import { registerReload } from "./reload.ts";
import { registerDecode } from "./decode.ts";
import { registerDemo } from "./demo.ts";

/**
 * One registration function a command, in the order `pfsyncd help` lists them.
 * A new command adds its file to lib/cli and one line here.
 */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerVersion,
  registerCheck,
  registerRun,
  registerStatus,
  registerStates,
  registerWatch,
  registerDemote,
  registerResync,
  registerMaintenance,
  registerReload,
  registerDecode,
  registerDemo,
];

export function buildProgram(): Command {
  const program = new Command("pfsyncd")
    .description("user-space pfsync(4) + carp(4) firewall high-availability agent")
    .version(VERSION, "-V, --version", "print the version")
    .showHelpAfterError("(run 'pfsyncd help' or 'pfsyncd <command> --help')")
    .exitOverride();
  for (const register of COMMANDS) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns the process exit code: 0 ok, 1 failure, 2 usage. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CliExit) {
      if (error.message) console.error(error.message);
      return error.code;
    }
    if (error instanceof CommanderError) {
      const harmless = ["commander.helpDisplayed", "commander.version", "commander.help"];
      if (harmless.includes(error.code)) return EXIT_OK;
      return EXIT_USAGE;
    }
    console.error(`pfsyncd: internal error: ${error instanceof Error ? error.stack : error}`);
    return EXIT_FAILURE;
  }
}
