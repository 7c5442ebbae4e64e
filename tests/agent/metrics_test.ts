import {
  METRICS_CONTENT_TYPE,
  type MetricsSnapshot,
  parseListen,
  renderMetrics,
  serveMetrics,
  snapshotFromStatus,
} from "../../lib/agent/metrics.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { sampleStatus } from "../control/fixtures.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the 0.0.4 text format: every sample must follow its HELP and TYPE. */
function parseExposition(text: string): { types: Record<string, string>; samples: Sample[] } {
  assert(text.endsWith("\n"), "exposition ends with a newline");
  const types: Record<string, string> = {};
  const helped = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
    if (help) {
      helped.add(help[1]);
      continue;
    }
    if (type) {
      assert(helped.has(type[1]), `HELP before TYPE for ${type[1]}`);
      types[type[1]] = type[2];
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert(sample, `sample line: ${line}`);
    assert(sample[1] in types, `TYPE before samples of ${sample[1]}`);
    const labels: Record<string, string> = {};
    for (const match of (sample[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[match[1]] = match[2].replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    }
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

function snapshot(): MetricsSnapshot {
  return snapshotFromStatus(sampleStatus(), { ok: 3, failed: 1 });
}

Deno.test("renderMetrics() writes every family with HELP/TYPE and labelled samples", () => {
  const { types, samples } = parseExposition(renderMetrics(snapshot()));
  assertEquals(types, {
    pfsyncd_carp_state: "gauge",
    pfsyncd_demotion: "gauge",
    pfsyncd_carp_packets_total: "counter",
    pfsyncd_pfsync_packets_total: "counter",
    pfsyncd_states: "gauge",
    pfsyncd_bulk_states_received: "gauge",
    pfsyncd_hook_runs_total: "counter",
  });
  const pick = (name: string) =>
    samples.filter((s) => s.name === name).map((s) => [s.labels, s.value]);
  assertEquals(pick("pfsyncd_carp_state"), [
    [{ vhid: "1", interface: "eth1" }, 2],
    [{ vhid: "2", interface: "eth0" }, 1],
  ]);
  assertEquals(pick("pfsyncd_demotion"), [[{}, 241]]);
  // One sample per counter, sorted by name, values as the engines counted them.
  const status = sampleStatus();
  const bySortedKey = (counters: Record<string, number>) =>
    Object.keys(counters).sort().map((key) => [{ counter: key }, counters[key]]);
  assertEquals(pick("pfsyncd_carp_packets_total"), bySortedKey(status.carpStats));
  assertEquals(pick("pfsyncd_pfsync_packets_total"), bySortedKey(status.pfsync.stats));
  assertEquals(pick("pfsyncd_carp_packets_total").length, 15);
  assertEquals(pick("pfsyncd_pfsync_packets_total").length, 16);
  assertStringIncludes(
    renderMetrics(snapshot()),
    'pfsyncd_pfsync_packets_total{counter="badttl"} 3\n',
  );
  assertEquals(pick("pfsyncd_states"), [[{}, 2]]);
  assertEquals(pick("pfsyncd_bulk_states_received"), [[{}, 1234]]);
  assertEquals(pick("pfsyncd_hook_runs_total"), [[{ result: "failed" }, 1], [{ result: "ok" }, 3]]);
});

Deno.test("renderMetrics() escapes label values and starts with the carp family", () => {
  const text = renderMetrics({
    ...snapshot(),
    carp: [{ interface: 'we"ird\\if\nx', vhid: 7, state: "INIT" }],
  });
  assert(text.startsWith("# HELP pfsyncd_carp_state "));
  assertStringIncludes(text, 'pfsyncd_carp_state{vhid="7",interface="we\\"ird\\\\if\\nx"} 0\n');
  const { samples } = parseExposition(text);
  assertEquals(samples[0].labels.interface, 'we"ird\\if\nx');
});

Deno.test("parseListen() defaults to loopback and rejects what is not [HOST:]PORT", () => {
  const table: [string, { hostname: string; port: number }][] = [
    ["9101", { hostname: "127.0.0.1", port: 9101 }],
    [":9101", { hostname: "127.0.0.1", port: 9101 }],
    ["0.0.0.0:9101", { hostname: "0.0.0.0", port: 9101 }],
    ["192.0.2.1:80", { hostname: "192.0.2.1", port: 80 }],
    ["[::1]:9101", { hostname: "::1", port: 9101 }],
    ["localhost:9", { hostname: "localhost", port: 9 }],
  ];
  for (const [text, expected] of table) assertEquals(parseListen(text), expected, text);
  for (const bad of ["", "host", "1.2.3.4:99999", "::1:80", "a b:1"]) {
    assertThrows(() => parseListen(bad), Error, "[HOST:]PORT");
  }
});

Deno.test("serveMetrics() is scraped over HTTP and parses; other paths and methods are refused", async () => {
  let scrapes = 0;
  const server = serveMetrics("127.0.0.1:0", () => {
    scrapes++;
    return Promise.resolve(snapshot());
  });
  try {
    assertEquals(server.hostname, "127.0.0.1");
    const base = `http://127.0.0.1:${server.port}`;
    const response = await fetch(`${base}/metrics`);
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
    const { samples } = parseExposition(await response.text());
    assertEquals(samples.find((s) => s.name === "pfsyncd_states")?.value, 2);
    assertEquals(scrapes, 1);

    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    assertEquals([head.status, await head.text()], [200, ""]);
    const missing = await fetch(`${base}/nope`);
    assertEquals([missing.status, await missing.text()], [404, "not found; try /metrics\n"]);
    const post = await fetch(`${base}/metrics`, { method: "POST", body: "x" });
    assertEquals(post.status, 405);
    await post.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("serveMetrics() answers 500 and reports when the snapshot fails", async () => {
  const errors: string[] = [];
  const server = serveMetrics(
    { hostname: "127.0.0.1", port: 0 },
    () => Promise.reject(new Error("table locked")),
    (message) => errors.push(message),
  );
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assertEquals(response.status, 500);
    await response.body?.cancel();
    assertEquals(errors.length, 1);
    assertStringIncludes(errors[0], "table locked");
  } finally {
    await server.close();
  }
});
