/**
 * Runs inside a namespace and watches its conntrack table fill:
 *
 *   deno run -A bench/conntrack/count_watch.ts TARGET [TIMEOUT_MS]
 *
 * Prints {"ready":…,"count":n} once it polls, {"almost":wall-ms,…} at 99 % of
 * the way, then {"reached":wall-ms,"count":n} when net.netfilter.nf_conntrack_count
 * (this namespace's table size) first reaches TARGET — or {"timeout":…,"count":n} —
 * and exits. Between them, {"t":wall-ms,"count":n} samples (at most one per 10 ms, only
 * when the count moved) trace the fill curve. Reading the
 * sysctl every 2 ms costs far less than spawning `conntrack -C` in a loop,
 * so the figure is the table's, not the poller's.
 */
const PATH = "/proc/sys/net/netfilter/nf_conntrack_count";
const target = Number(Deno.args[0]);
const timeoutMs = Number(Deno.args[1] ?? 120_000);
const count = () => Number(Deno.readTextFileSync(PATH).trim());

console.log(JSON.stringify({ ready: Date.now(), count: count() }));
const deadline = Date.now() + timeoutMs;
const base = count();
const almost = base + Math.ceil((target - base) * 0.99);
let almostSeen = false;
let lastSample = -1;
let lastSampleAt = 0;
for (;;) {
  const n = count();
  const now = Date.now();
  // The fill curve for the report's plot: a sample when the count moved, at most every 10 ms.
  if (n !== lastSample && now - lastSampleAt >= 10) {
    console.log(JSON.stringify({ t: now, count: n }));
    lastSample = n;
    lastSampleAt = now;
  }
  if (!almostSeen && n >= almost) {
    almostSeen = true;
    console.log(JSON.stringify({ almost: now, count: n }));
  }
  if (n >= target) {
    console.log(JSON.stringify({ reached: now, count: n }));
    break;
  }
  if (now > deadline) {
    console.log(JSON.stringify({ timeout: now, count: n }));
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 2));
}
