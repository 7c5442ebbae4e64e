/**
 * Prometheus text exposition (format 0.0.4) of the agent's state, and the tiny
 * HTTP endpoint that serves it. Off unless configured; the default address is
 * loopback so counters are never exposed on a firewall's outside by accident.
 */
import type { CarpStateName, Counters, StatusResult } from "../control/types.ts";

export interface MetricsSnapshot {
  carp: readonly { interface: string; vhid: number; state: CarpStateName }[];
  demotion: number;
  carpStats: Counters;
  pfsyncStats: Counters;
  states: number;
  bulkStatesReceived: number;
  /** Hook script runs by result ("ok", "failed", "timeout" …). */
  hookRuns: Readonly<Record<string, number>>;
}

/** CARP states as numbers, the kernel's order: INIT 0, BACKUP 1, MASTER 2. */
export const CARP_STATE_VALUE: Readonly<Record<CarpStateName, number>> = {
  INIT: 0,
  BACKUP: 1,
  MASTER: 2,
};

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export const DEFAULT_METRICS_HOST = "127.0.0.1";

export function snapshotFromStatus(
  status: StatusResult,
  hookRuns: Readonly<Record<string, number>> = {},
): MetricsSnapshot {
  return {
    carp: status.carp,
    demotion: status.demotion.value,
    carpStats: status.carpStats,
    pfsyncStats: status.pfsync.stats,
    states: status.states.count,
    bulkStatesReceived: status.pfsync.bulk.statesReceived,
    hookRuns,
  };
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string | number>): string {
  const body = Object.entries(pairs)
    .map(([key, value]) => `${key}="${escapeLabel(String(value))}"`)
    .join(",");
  return body === "" ? "" : `{${body}}`;
}

class Exposition {
  #lines: string[] = [];
  family(name: string, type: "gauge" | "counter", help: string): this {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    this.#lines.push(`# TYPE ${name} ${type}`);
    return this;
  }
  sample(name: string, value: number, pairs: Record<string, string | number> = {}): this {
    this.#lines.push(`${name}${labels(pairs)} ${Number.isFinite(value) ? value : "NaN"}`);
    return this;
  }
  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

function counterSamples(out: Exposition, name: string, counters: Counters): void {
  for (const key of Object.keys(counters).sort()) out.sample(name, counters[key], { counter: key });
}

export function renderMetrics(snapshot: MetricsSnapshot): string {
  const out = new Exposition();
  out.family("pfsyncd_carp_state", "gauge", "CARP state per vhid: 0 INIT, 1 BACKUP, 2 MASTER.");
  for (const vhid of snapshot.carp) {
    out.sample("pfsyncd_carp_state", CARP_STATE_VALUE[vhid.state], {
      vhid: vhid.vhid,
      interface: vhid.interface,
    });
  }
  out.family("pfsyncd_demotion", "gauge", "CARP demotion added to every vhid's advskew.")
    .sample("pfsyncd_demotion", snapshot.demotion);
  out.family("pfsyncd_carp_packets_total", "counter", "CARP protocol counters (carpstats).");
  counterSamples(out, "pfsyncd_carp_packets_total", snapshot.carpStats);
  out.family("pfsyncd_pfsync_packets_total", "counter", "pfsync protocol counters (pfsyncstats).");
  counterSamples(out, "pfsyncd_pfsync_packets_total", snapshot.pfsyncStats);
  out.family("pfsyncd_states", "gauge", "States in the table.")
    .sample("pfsyncd_states", snapshot.states);
  out.family(
    "pfsyncd_bulk_states_received",
    "gauge",
    "States received in the current or last pfsync bulk update.",
  ).sample("pfsyncd_bulk_states_received", snapshot.bulkStatesReceived);
  out.family("pfsyncd_hook_runs_total", "counter", "Hook script runs by result.");
  for (const result of Object.keys(snapshot.hookRuns).sort()) {
    out.sample("pfsyncd_hook_runs_total", snapshot.hookRuns[result], { result });
  }
  return out.text();
}

export interface ListenAddress {
  hostname: string;
  port: number;
}

/** "9101", ":9101", "0.0.0.0:9101", "[::1]:9101"; no host means loopback. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[^:\s]*):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new Error(`metrics listen address "${text}" is not [HOST:]PORT`);
  }
  const host = match[1] ? match[1].replace(/^\[|\]$/g, "") : DEFAULT_METRICS_HOST;
  return { hostname: host, port };
}

export interface MetricsServer {
  readonly hostname: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (and /) until closed; a snapshot failure answers 500. */
export function serveMetrics(
  listen: string | ListenAddress,
  getSnapshot: () => MetricsSnapshot | Promise<MetricsSnapshot>,
  onError: (message: string) => void = () => {},
): MetricsServer {
  const address = typeof listen === "string" ? parseListen(listen) : listen;
  const server = Deno.serve({
    hostname: address.hostname,
    port: address.port,
    onListen: () => {},
    onError: (error) => {
      onError(`metrics: ${error}`);
      return new Response("internal error\n", { status: 500 });
    },
  }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname !== "/metrics" && pathname !== "/") {
      return new Response("not found; try /metrics\n", { status: 404 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const body = renderMetrics(await getSnapshot());
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": METRICS_CONTENT_TYPE },
    });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    close: () => server.shutdown(),
  };
}
