/**
 * `pfsyncd demo` (`deno task demo`): the two-firewall lab in network
 * namespaces, live, then a failover. Needs root; without it, says so and
 * exits 1. Ctrl-C (or SIGTERM) tears the lab down before exiting.
 */
import type { Command } from "commander";
import { runFlowClient, runFlowServer } from "../demo/flows.ts";
import { type DemoOutput, type DemoProvider, runDemo } from "../demo/scenario.ts";
import type { DemoNetwork } from "../demo/netns.ts";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./exit.ts";

/** The permission flags of rc/deno-flags, used when the file is not beside the program. */
const FALLBACK_FLAGS =
  "--allow-ffi --unstable-net --allow-read --allow-write=/var/run,/run,/var/db/pfsyncd,/tmp " +
  "--allow-run --allow-env --allow-sys --allow-net";

/** The argv that starts this same program: the compiled binary, or deno + flags + main module. */
export function selfArgv(): string[] {
  const exe = Deno.execPath();
  if (!/(^|\/)deno$/.test(exe)) return [exe];
  const main = new URL(Deno.mainModule);
  const dir = new URL(".", main);
  let flags = FALLBACK_FLAGS;
  for (const candidate of ["rc/deno-flags", "../rc/deno-flags"]) {
    try {
      flags = Deno.readTextFileSync(new URL(candidate, dir)).trim();
      break;
    } catch { /* not there */ }
  }
  return [exe, "run", ...flags.split(/\s+/), decodeURIComponent(main.pathname)];
}

function terminalOutput(): DemoOutput {
  const encoder = new TextEncoder();
  let drawn = 0;
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  return {
    event(text) {
      // Events print above the panel: clear it, print, let the next tick redraw it.
      if (drawn > 0) write(`\x1b[${drawn}F\x1b[J`);
      drawn = 0;
      write(`${text}\n`);
    },
    live(lines) {
      if (drawn > 0) write(`\x1b[${drawn}F\x1b[J`);
      write(lines.map((l) => `\x1b[2m${l}\x1b[0m`).join("\n") + "\n");
      drawn = lines.length;
    },
  };
}

/** Not a terminal (a test, a pipe): print the panel only when it changes. */
function plainOutput(): DemoOutput {
  let last = "";
  return {
    event: (text) => console.log(text),
    live(lines) {
      const text = lines.join("\n");
      if (text !== last) console.log(text);
      last = text;
    },
  };
}

export function registerDemo(program: Command): void {
  // The client and server of the demo's real connections (lib/demo/flows.ts).
  program
    .command("demo-flows", { hidden: true })
    .argument("<role>", "server or client")
    .option("--port <port>", "TCP port", "7000")
    .option("--server <address>", "the server (client role)")
    .option("--connections <n>", "connections to open (client role)", "12")
    .action(async (role: string, o: { port: string; server?: string; connections: string }) => {
      if (role === "server") return await runFlowServer(Number(o.port));
      if (role === "client" && o.server) {
        return await runFlowClient(o.server, Number(o.port), Number(o.connections));
      }
      throw new CliExit(EXIT_USAGE, "pfsyncd demo-flows: server --port P | client --server A");
    });
  program
    .command("demo")
    .description("two firewalls in network namespaces: live CARP roles and states, then a failover")
    .option("--connections <n>", "connections the client opens (1-500)", "24")
    .option("--keep-logs", "keep the generated configs and the agents' logs (path printed)")
    .option(
      "--provider <name>",
      "conntrack (real TCP connections through nftables), memory (imported states), or auto",
      "auto",
    )
    .addHelpText(
      "after",
      "\nNeeds root (it creates network namespaces, pfdemo…); everything is removed at the\n" +
        "end or on Ctrl-C. Takes about 15 s. With nftables and netfilter conntrack (auto) the\n" +
        "client's connections are real TCP connections through a stateful ruleset, synced by\n" +
        "the conntrack provider; otherwise states imported into the memory provider.\n\n" +
        "Examples:\n  sudo deno task demo\n  sudo pfsyncd demo --connections 100 --provider memory",
    )
    .action(async (flags: { connections: string; keepLogs?: boolean; provider: string }) => {
      if (!["auto", "conntrack", "memory"].includes(flags.provider)) {
        throw new CliExit(EXIT_USAGE, "pfsyncd demo: --provider must be auto, conntrack or memory");
      }
      const connections = Number(flags.connections);
      if (!Number.isInteger(connections) || connections < 1 || connections > 500) {
        throw new CliExit(EXIT_USAGE, `pfsyncd demo: --connections must be 1-500`);
      }
      if (Deno.uid() !== 0) {
        throw new CliExit(
          EXIT_FAILURE,
          "pfsyncd demo: needs root to create network namespaces; run: sudo deno task demo",
        );
      }
      let net: DemoNetwork | undefined;
      const interrupted = (signal: Deno.Signal, code: number) => () => {
        net?.teardownSync();
        console.error(`\npfsyncd demo: ${signal}: lab torn down`);
        Deno.exit(code);
      };
      const onInt = interrupted("SIGINT", 130);
      const onTerm = interrupted("SIGTERM", 143);
      Deno.addSignalListener("SIGINT", onInt);
      Deno.addSignalListener("SIGTERM", onTerm);
      const out = Deno.stdout.isTerminal() ? terminalOutput() : plainOutput();
      try {
        const result = await runDemo(out, {
          connections,
          keepLogs: flags.keepLogs === true,
          provider: flags.provider as DemoProvider | "auto",
          pfsyncd: selfArgv(),
          onNetwork: (n) => (net = n),
        });
        if (result.statesOnBackup !== result.states) {
          throw new CliExit(EXIT_FAILURE, "pfsyncd demo: states were lost in the failover");
        }
        const c = result.connections;
        if (c && (c.resumed !== c.total || c.errors.length > 0)) {
          throw new CliExit(EXIT_FAILURE, "pfsyncd demo: connections broke in the failover");
        }
        console.log(
          c
            ? "demo done: the backup took over with every state; every connection kept working."
            : "demo done: the backup took over with every state.",
        );
      } catch (error) {
        if (error instanceof CliExit) throw error;
        throw new CliExit(EXIT_FAILURE, `pfsyncd demo: ${(error as Error).message}`);
      } finally {
        Deno.removeSignalListener("SIGINT", onInt);
        Deno.removeSignalListener("SIGTERM", onTerm);
      }
    });
}
