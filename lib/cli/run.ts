import type { Command } from "commander";
import { hasErrors, loadConfig } from "../config/mod.ts";
import { Agent } from "../agent/agent.ts";
import { openLog } from "../agent/log.ts";
import { acquirePidFile, type PidFile } from "../agent/pidfile.ts";
import { installSignalHandlers } from "../agent/signals.ts";
import {
  addConfigOptions,
  addOverrideOptions,
  type ConfigFlags,
  formatDiagnostics,
  loadOptionsFromFlags,
  summary,
} from "./config_options.ts";
import { CliExit, EXIT_FAILURE } from "./exit.ts";
import { SysError } from "../sys/mod.ts";

interface RunFlags extends ConfigFlags {
  stateDir: string;
}

/** `pfsyncd run`: the agent itself, until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1). */
export function registerRun(program: Command): void {
  const command = program
    .command("run")
    .description("run the agent: CARP for every configured vhid, pfsync, the control socket");
  addOverrideOptions(addConfigOptions(command))
    .option("--state-dir <dir>", "where maintenance mode is remembered", "/var/db/pfsyncd")
    .addHelpText(
      "after",
      "\nNeeds root (CAP_NET_RAW and CAP_NET_ADMIN). SIGHUP reloads, SIGTERM/SIGINT stop\n" +
        "gracefully (bow-out, addresses removed), SIGUSR1 logs the status.\n\nExample:\n" +
        "  pfsyncd run -f /etc/rc.conf -s /etc/sysctl.conf -c /usr/local/etc/pfsyncd.yaml",
    )
    .action(async (flags: RunFlags) => await runAgent(flags));
}

async function runAgent(flags: RunFlags): Promise<void> {
  const loadOptions = loadOptionsFromFlags(flags);
  const loaded = await loadConfig(loadOptions);
  if (loaded.diagnostics.length > 0) {
    console.error(formatDiagnostics(loaded.diagnostics, loaded.texts));
  }
  if (!loaded.config || hasErrors(loaded.diagnostics)) {
    throw new CliExit(EXIT_FAILURE, `pfsyncd: configuration has ${summary(loaded.diagnostics)}`);
  }
  const config = loaded.config;
  const { logger, close: closeLog } = openLog(config.log);

  let pidfile: PidFile | undefined;
  try {
    pidfile = acquirePidFile(config.pidfile);
  } catch (error) {
    throw new CliExit(EXIT_FAILURE, `pfsyncd: ${(error as Error).message}`);
  }

  let agent: Agent;
  try {
    agent = await Agent.start({
      config,
      logger,
      stateDir: flags.stateDir,
      reloadConfig: async () => {
        const again = await loadConfig(loadOptions);
        const errors = again.diagnostics.filter((d) => d.severity === "error")
          .map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);
        return { config: again.config, errors };
      },
    });
  } catch (error) {
    pidfile.release();
    await closeLog();
    const text = error instanceof SysError || error instanceof Error
      ? error.message
      : String(error);
    throw new CliExit(EXIT_FAILURE, `pfsyncd: cannot start: ${text}`);
  }

  const dispose = installSignalHandlers({
    reload: () => void agent.reload(),
    stop: (signal) => {
      logger.info(`${signal} received`);
      void agent.stop();
    },
    dumpStatus: () => agent.dumpStatus(),
  }, { onError: (message) => logger.error(message) });

  try {
    await agent.finished();
  } finally {
    dispose();
    pidfile.release();
    await closeLog();
  }
}
