/**
 * pfsyncd command-line entry: `pfsyncd <command> [options]`. The commands
 * live in lib/cli; this file only hands them argv and exits with their code.
 */
import { runCli } from "./lib/cli/mod.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
