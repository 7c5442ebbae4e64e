export { buildProgram, runCli } from "./program.ts";
export { CliExit, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit.ts";
