/**
 * `deno task bench`: runs every benchmark section in one go on this machine,
 * prints each as it finishes and writes them together to bench/RESULTS.md
 * with the machine, versions and date, so figures and the peers' figures
 * measured in the same run sit side by side. `deno task bench NAME…` runs
 * only the named sections.
 */
interface Section {
  readonly name: string;
  readonly module: string;
  readonly entry: string;
  readonly needsRoot: boolean;
}

const SECTIONS: readonly Section[] = [
  {
    name: "pfsync-codec",
    module: "./pfsync/codec.ts",
    entry: "runPfsyncCodecBench",
    needsRoot: false,
  },
  { name: "sockets", module: "./sockets/run.ts", entry: "runSocketBench", needsRoot: true },
  {
    name: "carp-failover",
    module: "./carp/failover.ts",
    entry: "runCarpFailoverBench",
    needsRoot: true,
  },
  { name: "pfsync-sync", module: "./pfsync/sync.ts", entry: "runPfsyncSyncBench", needsRoot: true },
  { name: "conntrack", module: "./conntrack/run.ts", entry: "runConntrackBench", needsRoot: true },
  { name: "fuzz", module: "./fuzz/run.ts", entry: "runFuzzBench", needsRoot: false },
  { name: "faults", module: "./faults/run.ts", entry: "runFaultsBench", needsRoot: true },
  { name: "soak", module: "./soak/run.ts", entry: "runSoakBench", needsRoot: true },
];

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

async function machine(): Promise<string> {
  const read = async (cmd: string[]) => {
    try {
      const out = await new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        stdout: "piped",
        stderr: "null",
      })
        .output();
      return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return "unknown";
    }
  };
  const cpu = (await read(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]))
    .trim();
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpu || "unknown CPU"}, ${navigator.hardwareConcurrency} cores, ${
      Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
    } GiB, ${await read(["uname", "-sr"])}`,
    `- deno ${Deno.version.deno}, v8 ${Deno.version.v8}`,
    `- peers: ${await read([
      "sh",
      "-c",
      "(ucarp --help 2>&1 | head -1; keepalived --version 2>&1 | head -1; conntrackd -v 2>&1 | head -1) | tr '\\n' ';'",
    ])}`,
  ].join("\n");
}

const wanted = new Set(Deno.args);
const root = Deno.uid?.() === 0;
const parts: string[] = ["# pfsyncd benchmark results", "", await machine(), ""];
for (const section of SECTIONS) {
  if (wanted.size > 0 && !wanted.has(section.name)) continue;
  const url = new URL(section.module, import.meta.url);
  let text: string;
  if (!(await exists(url))) {
    text = `## ${section.name}\n\nnot run: ${section.module} does not exist yet.\n`;
  } else if (section.needsRoot && !root) {
    text = `## ${section.name}\n\nnot run: needs root (network namespaces).\n`;
  } else {
    console.error(`bench: ${section.name} …`);
    try {
      const module = await import(url.href);
      text = await (module[section.entry] as () => Promise<string>)();
    } catch (error) {
      text = `## ${section.name}\n\nfailed: ${(error as Error).stack ?? error}\n`;
    }
  }
  console.log(text);
  parts.push(text);
}
await Deno.writeTextFile(new URL("./RESULTS.md", import.meta.url), parts.join("\n"));
console.error("bench: wrote bench/RESULTS.md");
