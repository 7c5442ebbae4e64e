import type { Command } from "commander";
import { VERSION } from "../version.ts";

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print the pfsyncd version, the Deno runtime and the platform")
    .addHelpText("after", "\nExample:\n  pfsyncd version")
    .action(() => {
      console.log(`pfsyncd ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`);
    });
}
