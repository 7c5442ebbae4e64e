/**
 * `pfsyncd states` (list, or with `--digest` the count and a hash of the
 * table), `states import FILE|-`, `states generate N` and `states delete`.
 * Import sends the file in batches below the agent's 1 MiB request cap, so
 * a file of any size goes through; errors are reported with the file's own
 * line numbers.
 */
import type { Command } from "commander";
import { callAgent, ControlClient } from "../control/client.ts";

/** The agent builds a whole listing (or applies a whole import batch) before it answers. */
const LISTING_TIMEOUT_MS = 120_000;
import { parseFlow } from "../control/flow.ts";
import { ControlError, type StatesDeleteParams } from "../control/protocol.ts";
import { renderState } from "../control/render.ts";
import { MAX_GENERATE, normalizeHexId } from "../control/validate.ts";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./exit.ts";
import { addControlOption, type ControlOptions, withAgent, writeOut } from "./status.ts";

/** Request budget per import batch; well under MAX_REQUEST_BYTES to leave room for JSON escaping. */
const IMPORT_BATCH_BYTES = 256 * 1024;

export function registerStates(program: Command): void {
  const states = program
    .command("states")
    .description("list the state table (pfctl -s state form), or import/delete states")
    .option("--json", "one JSON object per line (the form 'states import' reads)")
    .option("-v, --verbose", "add age, expiry, packets, bytes, id and creator id")
    .option(
      "--digest",
      "print only 'COUNT DIGEST': a hash of ids, protocols, endpoints and peers, " +
        "equal on two agents whose tables are in sync",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  pfsyncd states -v\n  pfsyncd states --json > table.jsonl\n" +
        "  pfsyncd states --digest",
    );
  addControlOption(states).action(
    async (options: ControlOptions & { json?: boolean; verbose?: boolean; digest?: boolean }) => {
      if (options.digest) {
        const result = await withAgent(() =>
          callAgent(options.control, "states.digest", {}, { timeoutMs: LISTING_TIMEOUT_MS })
        );
        return await writeOut(
          options.json ? JSON.stringify(result) + "\n" : `${result.count} ${result.digest}\n`,
        );
      }
      const verbose = options.verbose ?? false;
      const result = await withAgent(() =>
        callAgent(options.control, "states", { verbose }, {
          timeoutMs: LISTING_TIMEOUT_MS,
        })
      );
      const lines = options.json
        ? result.states.map((state) => JSON.stringify(state))
        : result.states.flatMap((state) => renderState(state, verbose));
      await writeOut(lines.length === 0 ? "" : lines.join("\n") + "\n");
    },
  );

  const importCommand = states
    .command("import")
    .configureHelp({ showGlobalOptions: true })
    .argument("<file>", "JSON lines file, or - for standard input")
    .description("feed states to the agent's memory provider, one JSON object a line")
    .addHelpText(
      "after",
      "\nA line may be what 'states --json' prints, or just a flow:\n" +
        '  {"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"}\n' +
        "\nExamples:\n  pfsyncd states import table.jsonl\n  generate | pfsyncd states import -",
    );
  importCommand.action(async (file: string, _options: unknown, command: Command) => {
    await importStates(file, controlPath(command));
  });

  const generateCommand = states
    .command("generate")
    .configureHelp({ showGlobalOptions: true })
    .argument("<count>", "how many states")
    .option("--seed <n>", "picks the flows; another seed adds other flows", "0")
    .description("insert synthetic established TCP states into the memory provider")
    .addHelpText(
      "after",
      "\nThe states are local, so pfsync announces them like imported ones; generation\n" +
        "skips JSON, for filling a table or measuring the sync rate.\n" +
        "With --json (an option of 'states') the result is one JSON object.\n" +
        "\nExamples:\n  pfsyncd states generate 100000\n  pfsyncd states generate 5000 --seed 7",
    );
  generateCommand.action(async (
    countText: string,
    options: { seed: string },
    command: Command,
  ) => {
    // `--json` belongs to `states` (see controlPath): read through the parent.
    const json = (command.optsWithGlobals() as { json?: boolean }).json ?? false;
    const count = wholeNumber(countText, "count", MAX_GENERATE);
    const seed = wholeNumber(options.seed, "--seed", 0xffffffff);
    const result = await withAgent(() =>
      callAgent(controlPath(command), "states.generate", { count, seed }, {
        timeoutMs: LISTING_TIMEOUT_MS,
      })
    );
    const dup = result.duplicates > 0 ? `, ${result.duplicates} already held` : "";
    if (json) return await writeOut(JSON.stringify(result) + "\n");
    await writeOut(
      `generated ${result.generated} state${result.generated === 1 ? "" : "s"}${dup} in ${
        Math.round(result.ms)
      } ms\n`,
    );
  });

  const deleteCommand = states
    .command("delete")
    .configureHelp({ showGlobalOptions: true })
    .description("delete one state by id (and creator id) or by flow")
    .option("--id <id>", "state id, up to 16 hex digits")
    .option("--creator <id>", "creator id, up to 8 hex digits (with --id)")
    .option("--flow <flow>", 'flow as "PROTO SRC -> DST"')
    .addHelpText(
      "after",
      "\nExamples:\n  pfsyncd states delete --id 00000000000004d2 --creator 0badcafe\n" +
        '  pfsyncd states delete --flow "tcp 192.0.2.10:1234 -> 198.51.100.7:80"',
    );
  deleteCommand.action(
    async (options: { id?: string; creator?: string; flow?: string }, command: Command) => {
      const params = deleteParams(options);
      const result = await withAgent(() =>
        callAgent(controlPath(command), "states.delete", params)
      );
      if (result.deleted === 0) throw new CliExit(EXIT_FAILURE, "pfsyncd: no matching state");
      await writeOut(`deleted ${result.deleted} state${result.deleted === 1 ? "" : "s"}\n`);
    },
  );
}

/**
 * `--control` belongs to `states` alone: the root parser hands `states` every
 * option after the subcommand name, so a second --control on the subcommands
 * would never receive its value. The subcommands read it from their parent and
 * list it among their global options in --help.
 */
function controlPath(command: Command): string {
  return (command.optsWithGlobals() as ControlOptions).control;
}

function wholeNumber(text: string, what: string, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value <= max)) {
    throw new CliExit(
      EXIT_USAGE,
      `pfsyncd states generate: ${what} must be a whole number up to ${max}, got "${text}"`,
    );
  }
  return value;
}

function deleteParams(options: { id?: string; creator?: string; flow?: string }) {
  const usage = (message: string): never => {
    throw new CliExit(EXIT_USAGE, `pfsyncd states delete: ${message}`);
  };
  if ((options.id === undefined) === (options.flow === undefined)) {
    usage("give either --id ID [--creator ID] or --flow FLOW");
  }
  if (options.creator !== undefined && options.id === undefined) usage("--creator needs --id");
  try {
    const params: StatesDeleteParams = {};
    if (options.id !== undefined) params.id = normalizeHexId(options.id, "id", 16);
    if (options.creator !== undefined) {
      params.creatorid = normalizeHexId(options.creator, "creator", 8);
    }
    if (options.flow !== undefined) params.flow = parseFlow(options.flow);
    return params;
  } catch (error) {
    if (error instanceof ControlError) return usage(error.message);
    throw error;
  }
}

async function readInput(file: string): Promise<string> {
  try {
    return file === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(file);
  } catch (error) {
    throw new CliExit(EXIT_FAILURE, `pfsyncd: cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Splits numbered lines into batches whose JSON stays under the byte budget. */
export function importBatches(
  lines: readonly { number: number; text: string }[],
  budget = IMPORT_BATCH_BYTES,
): { number: number; text: string }[][] {
  const batches: { number: number; text: string }[][] = [];
  let batch: { number: number; text: string }[] = [];
  let size = 0;
  for (const line of lines) {
    const cost = JSON.stringify(line.text).length + 1;
    if (batch.length > 0 && size + cost > budget) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(line);
    size += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

async function importStates(file: string, control: string): Promise<void> {
  const text = await readInput(file);
  const lines = text.split("\n")
    .map((line, index) => ({ number: index + 1, text: line.trim() }))
    .filter((line) => line.text !== "" && !line.text.startsWith("#"));
  let imported = 0;
  let updated = 0;
  const errors: string[] = [];
  await withAgent(async () => {
    const client = await ControlClient.connect(control, { timeoutMs: LISTING_TIMEOUT_MS });
    try {
      for (const batch of importBatches(lines)) {
        const result = await client.call("states.import", { lines: batch.map((l) => l.text) });
        imported += result.imported;
        updated += result.updated ?? 0;
        for (const error of result.errors) {
          errors.push(`${file}:${batch[error.line - 1]?.number ?? "?"}: ${error.message}`);
        }
      }
    } finally {
      client.close();
      await client.closed();
    }
  });
  const changed = updated > 0 ? `, updated ${updated}` : "";
  await writeOut(`imported ${imported} state${imported === 1 ? "" : "s"}${changed}\n`);
  if (errors.length > 0) {
    throw new CliExit(
      EXIT_FAILURE,
      errors.join("\n") +
        `\npfsyncd: ${errors.length} line${errors.length === 1 ? "" : "s"} rejected`,
    );
  }
}
