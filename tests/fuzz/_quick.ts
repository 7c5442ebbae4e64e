import { formatFailure, runRange } from "./runner.ts";
import { TARGET_LIST } from "./targets/mod.ts";
const n = Number(Deno.args[0] ?? 2000);
const only = Deno.args[1];
for (const t of TARGET_LIST) {
  if (only && t.name !== only) continue;
  const r = await runRange(t, { seed: 1, start: 0, end: n, slowMs: 1000, keep: 3 });
  console.log(
    t.name,
    r.inputs,
    (r.inputs / r.elapsedMs * 1000).toFixed(0) + "/s",
    JSON.stringify(r.outcomes),
    "fail",
    r.failures.length + r.moreFailures,
  );
  for (const f of r.failures) {
    console.log(formatFailure(f, 400), "\n", f.stack?.split("\n").slice(0, 6).join("\n"));
  }
}
