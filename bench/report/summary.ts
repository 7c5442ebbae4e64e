/**
 * The summary table at the top of bench/RESULTS.md: each headline figure of
 * issues 3–8 with pfsyncd's value, the peer's value measured in the same run,
 * the ratio, the issue's target and whether it was met — computed here from
 * the numbers the sections recorded (record.ts) or printed (their Markdown
 * tables), never typed in. A figure that was not measured says so.
 */
import type { RunRecord, SectionResult } from "./model.ts";

export interface SummaryRow {
  readonly figure: string;
  readonly issue: string;
  readonly pfsyncd: string;
  readonly peer: string;
  readonly ratio: string;
  readonly target: string;
  /** true = met, false = missed, undefined = not measured / not decidable. */
  readonly met: boolean | undefined;
}

// ---------------------------------------------------------------- formatting

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
export const int = (v: unknown) => isNum(v) ? Math.round(v).toLocaleString("en-US") : "—";
export const fixed = (v: unknown, d = 2) => isNum(v) ? v.toFixed(d) : "—";
const msOf = (s: unknown) =>
  !isNum(s) ? "—" : Math.abs(s) < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`;
export function ratioText(a: unknown, b: unknown): string {
  if (!isNum(a) || !isNum(b) || b === 0) return "—";
  const r = a / b;
  return `${r.toFixed(r < 0.1 ? 4 : r < 10 ? 2 : 1)}×`;
}

// ---------------------------------------------------------- markdown parsing

/** Every Markdown table in `text` as rows keyed by header cell. */
export function markdownTables(text: string): Record<string, string>[][] {
  const tables: Record<string, string>[][] = [];
  const lines = text.split("\n");
  const cells = (l: string) =>
    l.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trim().startsWith("|") || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1])) continue;
    const head = cells(lines[i]);
    const rows: Record<string, string>[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].trim().startsWith("|"); j++) {
      const c = cells(lines[j]);
      rows.push(Object.fromEntries(head.map((h, k) => [h, c[k] ?? ""])));
    }
    tables.push(rows);
    i = j - 1;
  }
  return tables;
}

/** The first table having a column whose header contains `column`. */
export function tableWith(text: string, column: string): Record<string, string>[] | undefined {
  return markdownTables(text).find((t) =>
    t.length > 0 && Object.keys(t[0]).some((h) => h.includes(column))
  );
}

/** The cell of `row` whose header contains `column`. */
export function cell(row: Record<string, string> | undefined, column: string): string | undefined {
  if (!row) return undefined;
  const key = Object.keys(row).find((h) => h.includes(column));
  return key === undefined ? undefined : row[key];
}

/** The first "N ms" in a cell; NaN for "never" or nothing. */
export function msIn(text: string | undefined): number {
  const m = text?.match(/(-?[\d,]+(?:\.\d+)?)\s*ms/);
  return m ? Number(m[1].replace(/,/g, "")) : NaN;
}

/** The first number in a cell (thousands separators allowed). */
export function numberIn(text: string | undefined): number {
  const m = text?.match(/-?\d[\d,]*(?:\.\d+)?/);
  return m ? Number(m[0].replace(/,/g, "")) : NaN;
}

// ---------------------------------------------------------------- the rows

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);

function section(run: RunRecord, name: string): SectionResult | undefined {
  return run.sections.find((s) => s.name === name);
}

function missing(run: RunRecord, name: string, figure: string, issue: string, target: string) {
  const s = section(run, name);
  const why = !s
    ? "section not run"
    : s.status === "failed"
    ? "section failed"
    : s.status === "skipped"
    ? "section skipped"
    : "not measured";
  return { figure, issue, pfsyncd: why, peer: "—", ratio: "—", target, met: undefined };
}

function carpRows(run: RunRecord): SummaryRow[] {
  const f = run.recorded.figures["carp-failover"];
  const med = (p: string, k: string) => get(f, "medians", p, k) as number | undefined;
  const down = get(f, "masterDownS") as number;
  const target = get(f, "targetMs") as number;
  if (!f) {
    return [
      missing(run, "carp-failover", "CARP takeover after SIGKILL", "4", "≤ master-down + 50 ms"),
      missing(run, "carp-failover", "CARP takeover after SIGTERM", "4", "≤ 50 ms"),
    ];
  }
  const excess = (p: string) => (med(p, "killSilence") ?? NaN) - down;
  const peers = (k: string, show: (v: unknown) => string) =>
    `ucarp ${show(med("ucarp", k))}, keepalived ${show(med("keepalived", k))}`;
  const ratios = (k: string) =>
    `${ratioText(med("pfsyncd", k), med("ucarp", k))} / ${
      ratioText(med("pfsyncd", k), med("keepalived", k))
    }`;
  const kill = excess("pfsyncd");
  const term = med("pfsyncd", "termTake");
  return [
    {
      figure: `CARP, SIGKILL: last advert → new master's first (median of ${get(f, "reps")})`,
      issue: "4",
      pfsyncd: `${fixed(med("pfsyncd", "killSilence"), 3)} s (${kill >= 0 ? "+" : ""}${
        msOf(kill)
      } past master-down)`,
      peer: peers("killSilence", (v) => `${fixed(v, 3)} s`),
      ratio: ratios("killSilence"),
      target: `≤ ${down} s + ${target} ms`,
      met: isNum(kill) ? kill * 1000 <= target : undefined,
    },
    {
      figure: `CARP, SIGTERM: signal → new master's first advert (median of ${get(f, "reps")})`,
      issue: "4",
      pfsyncd: msOf(term),
      peer: peers("termTake", msOf),
      ratio: ratios("termTake"),
      target: `≤ ${target} ms`,
      met: isNum(term) ? term * 1000 <= target : undefined,
    },
  ];
}

function codecRows(run: RunRecord): SummaryRow[] {
  const s = section(run, "pfsync-codec");
  const t = s?.status === "ok" ? tableWith(s.text, "encode records/s") : undefined;
  if (!s || !t) {
    return [missing(run, "pfsync-codec", "pfsync codec, records/s", "5", "≥ 1,000,000")];
  }
  const target = numberIn(s.text.match(/Target: at least ([\d,]+)/)?.[1]);
  return t.map((r) => {
    const enc = numberIn(cell(r, "encode"));
    const dec = numberIn(cell(r, "decode"));
    return {
      figure: `pfsync codec, ${r["record"]}: records/s encode / decode`,
      issue: "5",
      pfsyncd: `${int(enc)} / ${int(dec)}`,
      peer: "—",
      ratio: `${ratioText(enc, target)} / ${ratioText(dec, target)} of target`,
      target: `≥ ${int(target)} each way`,
      met: isNum(enc) && isNum(dec) && isNum(target) ? enc >= target && dec >= target : undefined,
    };
  });
}

function syncRows(run: RunRecord): SummaryRow[] {
  const f = run.recorded.figures["pfsync-sync"];
  if (!f) {
    return [
      missing(run, "pfsync-sync", "live sync A→B, states/s", "5", "≥ 200,000"),
      missing(run, "pfsync-sync", "bulk update of 1,000,000 states", "5", "< 5 s"),
      missing(run, "pfsync-sync", "memory per state", "5", "≤ 300 B"),
    ];
  }
  const t = get(f, "targets") as { live: number; bulkSeconds: number; bytesPerState: number };
  // A's table → B's table is the generated feed (`states generate`); the JSON import is
  // shown beside it, since there the feed itself is the bound.
  const generated = get(f, "generated", "perSecond") as number | undefined;
  const imported = get(f, "live", "perSecond") as number | undefined;
  const live = generated ?? imported;
  const ctLive = get(f, "ctLive", "perSecond") as number | undefined;
  const liveN = (get(f, "generated", "n") ?? get(f, "live", "n")) as number | undefined;
  const counts = get(f, "counts") as number[];
  const last = counts.length - 1;
  const n = counts[last];
  const rssB = get(f, "bulk", last, "rssPerStateB") as number | undefined;
  const ctRssB = get(f, "resync", last, "rssPerStateB") as number | undefined;
  const bulkRow = (i: number): SummaryRow => {
    const count = counts[i];
    const bulk = get(f, "bulk", i) as Obj | null;
    const resync = get(f, "resync", i) as Obj | null;
    const bulkS = get(bulk, "seconds") as number | undefined;
    const complete = get(bulk, "count") === count;
    const ctS = get(resync, "seconds") as number | undefined;
    const ctReached = get(resync, "reached") as number | undefined;
    // conntrackd's resync is only a resync if B's cache was not already full at the first poll.
    const first = run.recorded.series.find((x) =>
      x.kind === "bulk" && x.system === "conntrackd" && x.n === count
    )?.points[0];
    const prefilled = first !== undefined && first[1] >= count;
    const full = count >= 1_000_000;
    return {
      figure: `bulk update of ${int(count)} states, s (a time: lower is better)`,
      issue: "5",
      pfsyncd: isNum(bulkS)
        ? `${fixed(bulkS)} s${complete ? "" : " (incomplete)"}`
        : "not measured",
      peer: `conntrackd resync ${isNum(ctS) ? `${fixed(ctS)} s` : "—"}${
        isNum(ctReached) && ctReached < count ? ` (reached ${int(ctReached)})` : ""
      }${prefilled ? " — invalid: B's cache already held them at the first poll" : ""}`,
      ratio: prefilled ? "—" : ratioText(bulkS, ctS),
      target: full ? `< ${t.bulkSeconds} s` : "— (the target is for 1,000,000)",
      met: full && isNum(bulkS) ? bulkS < t.bulkSeconds && complete : undefined,
    };
  };
  return [
    {
      figure: `live sync A→B through real sockets, states/s (${int(liveN ?? counts[0])} states${
        isNum(generated) ? ", A's table → B's table" : ""
      })`,
      issue: "5",
      pfsyncd: isNum(generated) && isNum(imported)
        ? `${int(generated)} (JSON import feed: ${int(imported)})`
        : int(live),
      peer: `conntrackd ${int(ctLive)}`,
      ratio: ratioText(live, ctLive),
      target: `≥ ${int(t.live)}`,
      met: isNum(live) ? live >= t.live : undefined,
    },
    ...counts.map((_, i) => bulkRow(i)),
    {
      figure: `resident memory per state on the receiver at ${int(n)}, bytes`,
      issue: "5",
      pfsyncd: int(rssB),
      peer: `conntrackd ${int(ctRssB)}`,
      ratio: ratioText(rssB, ctRssB),
      target: `≤ ${t.bytesPerState}`,
      met: isNum(rssB) ? rssB <= t.bytesPerState : undefined,
    },
  ];
}

function conntrackRows(run: RunRecord): SummaryRow[] {
  const f = run.recorded.figures["conntrack"] as Obj | undefined;
  if (!f) {
    return [
      missing(run, "conntrack", "conntrack provider A→B, share of kernel rate", "6", "≥ 90 %"),
      missing(run, "conntrack", "TCP stall after SIGKILL / SIGTERM", "6", "≤ next retransmission"),
    ];
  }
  const sync = get(f, "sync") as { n: number; system: string; perSecond: number }[];
  const gap = get(f, "gap") as {
    signal: string;
    system: string;
    runs: number;
    takeoverMs: number;
    tcpStallMs: number;
    retransmitMet?: number;
  }[];
  const share = get(f, "shareTarget") as number;
  const termTarget = get(f, "sigtermTargetMs") as number;
  const rows: SummaryRow[] = [];
  const ns = [...new Set(sync.filter((s) => s.system === "pfsyncd").map((s) => s.n))];
  for (const n of ns) {
    const of = (system: string) => sync.find((s) => s.n === n && s.system === system)?.perSecond;
    const ours = of("pfsyncd");
    const kernel = of("kernel");
    const theirs = of("conntrackd");
    rows.push({
      figure: `conntrack provider: ${int(n)} kernel entries A → B's kernel, states/s`,
      issue: "6",
      pfsyncd: `${int(ours)} (${
        isNum(ours) && isNum(kernel) ? `${((ours / kernel) * 100).toFixed(0)} %` : "—"
      } of kernel ${int(kernel)})`,
      peer: `conntrackd ${int(theirs)}`,
      ratio: ratioText(ours, theirs),
      target: `≥ ${(share * 100).toFixed(0)} % of kernel and ≥ conntrackd`,
      met: isNum(ours) && isNum(kernel)
        ? ours / kernel >= share && (!isNum(theirs) || ours >= theirs)
        : undefined,
    });
  }
  for (const signal of ["SIGKILL", "SIGTERM"]) {
    const ours = gap.find((g) => g.signal === signal && g.system === "pfsyncd");
    const theirs = gap.find((g) => g.signal === signal && g.system !== "pfsyncd");
    const met = !ours || ours.runs === 0
      ? undefined
      : signal === "SIGKILL"
      ? ours.retransmitMet === ours.runs
      : ours.tcpStallMs <= termTarget;
    rows.push({
      figure: `TCP stall through a failover, ${signal} (takeover → stall, median of ${
        ours?.runs ?? 0
      })`,
      issue: "6",
      pfsyncd: ours && ours.runs
        ? `${int(ours.takeoverMs)} → ${int(ours.tcpStallMs)} ms`
        : "not measured",
      peer: theirs && theirs.runs
        ? `${theirs.system} ${int(theirs.takeoverMs)} → ${int(theirs.tcpStallMs)} ms`
        : "—",
      ratio: ratioText(ours?.tcpStallMs, theirs?.tcpStallMs),
      target: signal === "SIGKILL"
        ? "stall ends at TCP's first retransmission after the takeover"
        : `≤ ${termTarget} ms`,
      met,
    });
  }
  return rows;
}

/** The bench's resolution: digests polled every 10 ms, two control round trips each. */
const HEAL_MARGIN_MS = 50;

function faultRows(run: RunRecord): SummaryRow[] {
  const s = section(run, "faults");
  if (!s || s.status !== "ok") {
    return [missing(run, "faults", "fault-recovery times", "8", "heal by themselves")];
  }
  const text = s.text;
  const rows: SummaryRow[] = [];
  const failed = (name: string) =>
    new RegExp(`\\*\\*${name}[^*]*: FAILED\\*\\*[^\\n]*`).exec(text)?.[0];
  const failRow = (figure: string, name: string, target: string): SummaryRow | undefined => {
    const f = failed(name);
    return f
      ? {
        figure,
        issue: "8",
        pfsyncd: f.replace(/\*\*/g, "").slice(0, 120),
        peer: "—",
        ratio: "—",
        target,
        met: false,
      }
      : undefined;
  };
  // 1. loss
  const loss = markdownTables(text).find((t) => t.length > 0 && "loss" in t[0]);
  const bulkMs = msIn(text.match(/One bulk update of the table took ([^.]+)\./)?.[1]);
  if (loss) {
    const heal = loss.map((r) => {
      const self = cell(r, "equal by themselves") ?? cell(r, "left 5 s after") ?? "";
      if (/none \(healed/.test(self) || /^\s*[\d,.]+\s*ms/.test(self)) return msIn(self);
      return msIn(cell(r, "every state of A on B"));
    });
    const worst = heal.some((v) => !isNum(v)) ? NaN : Math.max(...heal);
    const leftovers = loss.map((r) => numberIn(cell(r, "left after resync")));
    rows.push({
      figure: `sync-link loss ${
        loss.map((r) => cell(r, "loss")).join(", ")
      } under churn: worst time to heal`,
      issue: "8",
      pfsyncd: `${isNum(worst) ? `${int(worst)} ms` : "never"}; states left different after: ${
        leftovers.map(int).join(" / ")
      }`,
      peer: "—",
      ratio: "—",
      target: `equal by themselves within one bulk-update time after the loss ends ` +
        `(${int(bulkMs)} ms here), plus ${int(HEAL_MARGIN_MS)} ms of the bench's polling`,
      met: isNum(bulkMs)
        ? isNum(worst) && worst <= bulkMs + HEAL_MARGIN_MS &&
          leftovers.every((v) => v === 0)
        : undefined,
    });
    const jitter = tableWith(text, "one-way delay");
    if (jitter) {
      const selfHeal = jitter.map((r) => msIn(cell(r, "equal by themselves")));
      rows.push({
        figure: `sync-link jitter ${
          jitter.map((r) => cell(r, "fault")).join(", ")
        } under churn: equal by themselves after the fault ends`,
        issue: "8",
        pfsyncd: selfHeal.map((v) => isNum(v) ? `${int(v)} ms` : "never").join(" / "),
        peer: "—",
        ratio: "—",
        target: "equal by themselves (no resync)",
        met: selfHeal.every(isNum),
      });
    }
  } else {
    const r = failRow("sync-link loss under churn", "loss", "equal within one bulk update");
    if (r) rows.push(r);
  }
  // 2. kill mid-bulk
  const kill = markdownTables(text).find((t) =>
    t.length > 0 && cell(t[0], "peer after the kill") !== undefined
  );
  if (kill) {
    const rel = kill.map((r) => msIn(cell(r, "demotion released")));
    rows.push({
      figure: "peer killed mid-bulk (100,000): demotion released after the kill (peer back / none)",
      issue: "8",
      pfsyncd: rel.map((v) => isNum(v) ? `${int(v)} ms` : "never").join(" / "),
      peer: "—",
      ratio: "—",
      target: "bounded, reason logged",
      met: rel.length > 0 && rel.every(isNum),
    });
  } else {
    const r = failRow("peer killed mid-bulk", "kill", "bounded");
    if (r) rows.push(r);
  }
  // 3. sync link down 30 s
  const down = tableWith(text, "bulk update requested on link up");
  if (down) {
    const r = down[0];
    const heal = msIn(cell(r, "equal after link up") ?? cell(r, "every state of A on B"));
    const left = numberIn(cell(r, "left"));
    rows.push({
      figure: "sync link down 30 s, up: tables equal after link up; states left different",
      issue: "8",
      pfsyncd: `${int(heal)} ms (bulk on link up: ${cell(r, "bulk update requested")}); ${
        int(left)
      } left`,
      peer: "—",
      ratio: "—",
      target: "resynchronises by itself (tables equal)",
      met: isNum(heal) && cell(r, "bulk update requested") === "yes" && left === 0,
    });
  } else {
    const r = failRow("sync link down 30 s", "down", "resynchronises by itself");
    if (r) rows.push(r);
  }
  // 4. parent link flapping
  const flap = tableWith(text, "flaps");
  if (flap) {
    const settle = msIn(cell(flap[0], "after the last link up"));
    rows.push({
      figure: "parent link flapping 1 min: one MASTER, demotion 0 after the last link up",
      issue: "8",
      pfsyncd: `${int(settle)} ms (${cell(flap[0], "flaps")} flaps)`,
      peer: "—",
      ratio: "—",
      target: "no split brain once it stops",
      met: isNum(settle),
    });
  } else {
    const r = failRow("parent link flapping", "flap", "no split brain");
    if (r) rows.push(r);
  }
  // 5. restarts
  const restart = tableWith(text, "restarts");
  if (restart) {
    const r = restart[0];
    const full = cell(r, "full table after") ?? "";
    const failovers = numberIn(cell(r, "samples with a failover"));
    rows.push({
      figure: `backup restarted ${
        cell(r, "restarts")
      }× under churn: full table after (min / median / max)`,
      issue: "8",
      pfsyncd: `${full}; ${int(failovers)} samples with a failover`,
      peer: "—",
      ratio: "—",
      target: "full table every time, no failover",
      met: !/never/.test(full) && failovers === 0,
    });
  } else {
    const r = failRow("backup restarted under churn", "restart", "full table, no failover");
    if (r) rows.push(r);
  }
  // 6. two masters
  const split = tableWith(text, "healed → one MASTER");
  if (split) {
    const ours = split.find((r) => r["product"] === "pfsyncd");
    const theirs = split.find((r) => r["product"]?.startsWith("ucarp"));
    const a = msIn(cell(ours, "healed"));
    const b = msIn(cell(theirs, "healed"));
    rows.push({
      figure: "two masters after a cut, healed: one MASTER after (median)",
      issue: "8",
      pfsyncd: `${int(a)} ms`,
      peer: `ucarp ${int(b)} ms`,
      ratio: ratioText(a, b),
      target: "≤ 1 advertisement interval (1,000 ms)",
      met: isNum(a) ? a <= 1000 : undefined,
    });
  }
  return rows;
}

function fuzzRows(run: RunRecord): SummaryRow[] {
  const s = section(run, "fuzz");
  const t = s?.status === "ok" ? tableWith(s.text, "inputs/s") : undefined;
  if (!t) {
    return [missing(run, "fuzz", "fuzzing, inputs per decoder", "8", "≥ 1,000,000, no failure")];
  }
  const inputs = t.map((r) => numberIn(r["inputs"]));
  const failures = t.reduce((n, r) => n + numberIn(r["failures"]), 0);
  const least = Math.min(...inputs);
  // Scaled down by the FUZZ_COUNT knob: the count target cannot be judged, failures still can.
  const fuzzCount = (s?.knobs ?? run.knobs)["FUZZ_COUNT"];
  const scaled = least < 1_000_000 && fuzzCount !== undefined;
  return [{
    figure: `fuzzing: ${t.length} decoders, fewest inputs per decoder / failures`,
    issue: "8",
    pfsyncd: `${int(least)} / ${int(failures)}${scaled ? ` (FUZZ_COUNT=${fuzzCount})` : ""}`,
    peer: "—",
    ratio: "—",
    target: "≥ 1,000,000 each, 0 failures",
    met: failures > 0 ? false : scaled ? undefined : least >= 1_000_000,
  }];
}

function soakRows(run: RunRecord): SummaryRow[] {
  const s = section(run, "soak");
  const m = s?.status === "ok"
    ? s.text.match(/RSS growth, last third vs middle third: A (-?[\d.]+) %, B (-?[\d.]+) %/)
    : null;
  if (!s || !m) {
    return [missing(run, "soak", "soak: RSS growth", "8", "flat, no error counter grows")];
  }
  const minutes = numberIn(s.text.match(/churning for\s+([\d.]+) min/)?.[1]);
  const grown = s.text.match(/error counters grown during the run: ([^\n]+)/)?.[1] ?? "?";
  const a = Number(m[1]), b = Number(m[2]);
  return [{
    figure: `soak, ${int(minutes)} min of churn: RSS growth last third vs middle third (A / B)`,
    issue: "8",
    pfsyncd: `${m[1]} % / ${m[2]} %; error counters grown: ${grown}`,
    peer: "—",
    ratio: "—",
    target: "flat (< 10 %), no error counter grows (30 min run)",
    met: a < 10 && b < 10 && grown === "none",
  }];
}

function socketRows(run: RunRecord): SummaryRow[] {
  const s = section(run, "sockets");
  const ratio = numberIn(s?.text.match(/lowest TS\/C packet-rate ratio ([\d.]+)/)?.[1]);
  const p99 = numberIn(s?.text.match(/TS p99 latency ([\d.,]+) µs/)?.[1]);
  const idle = numberIn(s?.text.match(/TS idle CPU ([\d.,]+) ms\/s/)?.[1]);
  if (!s || s.status !== "ok" || !isNum(ratio)) {
    return [missing(run, "sockets", "raw sockets vs C", "3", "≥ 0.5× C")];
  }
  return [{
    figure: "raw socket + reactor vs the same loop in C: lowest packet-rate ratio; p99 " +
      "receive latency; CPU while idle",
    issue: "3",
    pfsyncd: `${fixed(ratio)}× C; p99 ${fixed(p99, 1)} µs; idle ${fixed(idle)} ms/s`,
    peer: "C loop (gcc -O2)",
    ratio: `${fixed(ratio)}×`,
    target: "≥ 0.50× C, p99 < 1,000 µs, no CPU while idle (< 0.1 ms/s)",
    met: ratio >= 0.5 && isNum(p99) && p99 < 1000 && isNum(idle) && idle < 0.1,
  }];
}

/** Every summary row, in issue order. */
export function summaryRows(run: RunRecord): SummaryRow[] {
  return [
    ...socketRows(run),
    ...carpRows(run),
    ...codecRows(run),
    ...syncRows(run),
    ...conntrackRows(run),
    ...faultRows(run),
    ...fuzzRows(run),
    ...soakRows(run),
  ];
}

const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The summary as Markdown, with a count of targets met. */
export function summaryMarkdown(rows: readonly SummaryRow[]): string {
  const met = rows.filter((r) => r.met === true).length;
  const missed = rows.filter((r) => r.met === false).length;
  const open = rows.length - met - missed;
  return [
    "## Summary",
    "",
    `${met} targets met, ${missed} missed, ${open} not measured or not decidable in this run. ` +
    "Ratios are pfsyncd ÷ peer: for rates higher is better, for times and memory lower is better.",
    "",
    "| figure | issue | pfsyncd | peer (same run) | pfsyncd ÷ peer | target | met |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${esc(r.figure)} | ${r.issue} | ${esc(r.pfsyncd)} | ${esc(r.peer)} | ${esc(r.ratio)} | ${
        esc(r.target)
      } | ${r.met === undefined ? "—" : r.met ? "yes" : "**no**"} |`
    ),
    "",
  ].join("\n");
}
