/** The machine and the versions of everything measured, for the report's header. */
import type { Machine } from "./model.ts";

/** Environment variables that scale the benchmark run down (stated in the report). */
export const KNOBS = [
  "PFSYNCD_BENCH_CARP_REPS",
  "PFSYNCD_BENCH_CT_REPS",
  "PFSYNCD_BENCH_CT_SIZES",
  "PFSYNCD_BENCH_SYNC_LARGE",
  "PFSYNCD_SOAK_MINUTES",
  "PFSYNCD_SOAK_PROVIDER",
  "FUZZ_COUNT",
  "FUZZ_SEED",
] as const;

async function firstLine(cmd: string, args: string[], match?: RegExp): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + "\n" + new TextDecoder().decode(out.stderr);
    const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
    return (match ? lines.find((l) => match.test(l)) : lines[0]) ?? "unknown";
  } catch {
    return "not installed";
  }
}

export async function machineInfo(): Promise<Machine> {
  let cpu = "unknown CPU";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? cpu;
  } catch { /* not Linux */ }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    kernel: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    peers: {
      ucarp: await firstLine("ucarp", ["--help"], /^ucarp\s/i),
      keepalived: await firstLine("keepalived", ["--version"], /^keepalived/i),
      conntrackd: await firstLine("conntrackd", ["-v"], /daemon|conntrack/i),
      conntrack: await firstLine("conntrack", ["--version"], /conntrack/i),
      nft: await firstLine("nft", ["--version"], /nftables/i),
      tcpdump: await firstLine("tcpdump", ["--version"], /tcpdump/i),
    },
    loadAtStart: Deno.loadavg()[0],
  };
}
