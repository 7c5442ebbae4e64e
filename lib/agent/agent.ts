/**
 * The composition root: builds the reactor, the state table and provider,
 * the CARP and pfsync shells, the link watcher, the control socket and the
 * optional metrics endpoint from one AgentConfig; owns reload and shutdown.
 */
import inspector from "node:inspector";
import type { AgentConfig } from "../config/mod.ts";
import type { CarpVhostConfig, HookResult } from "../carp/mod.ts";
import { readAuthKeyFile } from "../pfsync/mod.ts";
import { QUICK_INSERT_DELAY_MS } from "../pfsync/sender.ts";
import { connectProvider, type ProviderLink, type StateProvider } from "../state/provider.ts";
import { buildFilter, ConntrackProvider } from "../state/conntrack/mod.ts";
import { formatCidr } from "../net/address.ts";
import { MemoryProvider } from "../state/memory.ts";
import { StateTable } from "../state/table.ts";
import {
  type Interface,
  type LinkWatcher,
  listInterfaces,
  Reactor,
  watchLinks,
} from "../sys/mod.ts";
import { type ControlServer, startControlServer } from "../control/mod.ts";
import type { StatusResult } from "../control/types.ts";
import { demotionTotal } from "../carp/mod.ts";
import { VERSION } from "../version.ts";
import { CarpRuntime } from "./carp_runtime.ts";
import { PfsyncRuntime } from "./pfsync_runtime.ts";
import type { Logger } from "./log.ts";
import { WatchHub } from "../control/watch_hub.ts";
import { buildHandlers } from "./handlers.ts";
import { MaintenanceStore } from "./maintenance.ts";
import { type MetricsServer, serveMetrics, snapshotFromStatus } from "./metrics.ts";
import { stateEvent } from "./state_view.ts";

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Loads the configuration again for a reload (the same files and flags). */
  readonly reloadConfig: () => Promise<{ config?: AgentConfig; errors: string[] }>;
  /** Where maintenance mode is remembered across restarts. */
  readonly stateDir: string;
}

/** The maximum demotion: the peer takes every vhid over. */
export const MAINTENANCE_DEMOTION = 240;

/** Slots the memory provider's expiry walks at least each second. */
const PURGE_MIN_SLICE = 10_000;

export class Agent {
  readonly reactor = new Reactor();
  readonly hub = new WatchHub();
  readonly table = new StateTable();
  readonly startedAt = Date.now();
  readonly maintenance: MaintenanceStore;
  carp!: CarpRuntime;
  pfsync!: PfsyncRuntime;
  provider!: StateProvider;
  /** The memory provider, when it is the one in use (`states import/delete` need it). */
  memory?: MemoryProvider;
  #config: AgentConfig;
  readonly #options: AgentOptions;
  #providerLink?: ProviderLink;
  #links?: LinkWatcher;
  #control?: ControlServer;
  #metrics?: MetricsServer;
  #reactorDone?: Promise<void>;
  #stopping?: Promise<void>;
  #purgeTimer?: ReturnType<typeof setInterval>;

  private constructor(options: AgentOptions) {
    this.#options = options;
    this.#config = options.config;
    this.maintenance = new MaintenanceStore(options.stateDir);
  }

  get config(): AgentConfig {
    return this.#config;
  }

  get logger(): Logger {
    return this.#options.logger;
  }

  /** Starts everything; throws (with every opened resource closed) when a part cannot start. */
  static async start(options: AgentOptions): Promise<Agent> {
    const agent = new Agent(options);
    try {
      await agent.#start();
    } catch (error) {
      await agent.#teardown();
      throw error;
    }
    return agent;
  }

  async #start(): Promise<void> {
    const config = this.#config;
    const log = this.logger;
    const interfaces = await listInterfaces();
    const hostId = config.hostid ?? 1;

    this.provider = this.#openProvider(interfaces, hostId);
    this.#providerLink = await connectProvider(
      this.provider,
      this.table,
      (message, error) => log.error(`${message}: ${(error as Error).message ?? error}`),
    );
    if (this.memory) {
      // The memory provider has no kernel to expire its states: purge them as pf does, a slice
      // of the table each second; removals are local deletes, so the peers hear of them.
      this.#purgeTimer = setInterval(() => {
        this.table.purgeExpired(Math.max(PURGE_MIN_SLICE, Math.ceil(this.table.size / 10)));
      }, 1000);
    }
    this.table.on((event) => {
      if (this.hub.subscribers > 0) this.hub.publish(stateEvent(this.table, event));
    });

    this.carp = new CarpRuntime({
      reactor: this.reactor,
      logger: log,
      hub: this.hub,
      sysctls: config.sysctl,
      hooks: config.hooks,
      interfaces,
      onHookResult: (result) => {
        const outcome = hookOutcome(result);
        this.#hookRuns[outcome] = (this.#hookRuns[outcome] ?? 0) + 1;
      },
    });
    for (const vhost of config.carp) this.carp.addVhost(vhost);

    const auth = config.pfsync.auth
      ? {
        key: await readAuthKeyFile(config.pfsync.auth.keyfile),
        mode: config.pfsync.auth.required ? "required" as const : "optional" as const,
      }
      : undefined;
    const pfsyncOn = config.pfsync.enabled;
    this.pfsync = new PfsyncRuntime({
      reactor: this.reactor,
      logger: log,
      table: this.table,
      interfaces,
      engine: {
        syncif: pfsyncOn ? config.pfsync.syncif : undefined,
        syncpeer: pfsyncOn ? config.pfsync.syncpeer : undefined,
        hostId,
        maxupd: config.pfsync.maxupd,
        // New states reach the peer within 10 ms instead of pf's 1 s (sender.ts).
        insertDelayMs: QUICK_INSERT_DELAY_MS,
        auth,
        sequence: config.pfsync.sequence,
        bulkPurge: config.pfsync.bulkPurge,
        repair: config.pfsync.repair,
      },
      holdPreemption: (on, reason) => {
        this.carp.host.setBulkUpdatePending(on);
        this.hub.publish({
          type: "bulk",
          ts: new Date().toISOString(),
          phase: on ? "requested" : "done",
          statesReceived: this.pfsync?.engine.status().bulk.received ?? 0,
        });
        log.info(`${reason}: ${on ? "holding CARP preemption back" : "CARP preemption released"}`);
      },
    });

    if (await this.maintenance.isOn()) {
      this.carp.host.adjust("operator", "maintenance", MAINTENANCE_DEMOTION);
      log.warning("maintenance mode is on (remembered): demoted so the peer stays MASTER");
    }

    // Link messages also come for changes that leave the link usable (promiscuous mode, MTU):
    // only a change from unusable to usable is a "sync link up".
    const usableBefore = new Map(
      interfaces.map((i) => [i.name, i.up && i.running] as [string, boolean]),
    );
    this.#links = watchLinks((event) => {
      const usable = event.up && event.running && !event.removed;
      const wasUsable = usableBefore.get(event.name);
      usableBefore.set(event.name, usable);
      this.carp.linkChanged(event.name, usable);
      if (usable && wasUsable === false && this.pfsync.isSyncInterface(event.name)) {
        this.pfsync.linkUp();
      }
      // Addresses may have changed with the link: keep the self-filter current.
      listInterfaces().then((list) => this.carp.setInterfaces(list)).catch(() => {});
    }, { reactor: this.reactor, onError: (e) => log.warning(`links: ${e}`) });

    this.#control = await startControlServer({
      path: config.control,
      handlers: buildHandlers(this),
      onError: (message) => log.warning(`control: ${message}`),
    });

    if (config.metrics) {
      this.#metrics = serveMetrics(
        config.metrics.listen,
        () => snapshotFromStatus(this.status(), this.hookRuns()),
        (message) => log.warning(message),
      );
    }

    this.#reactorDone = this.reactor.run();
    this.pfsync.start();
    this.carp.start();
    log.info(
      `pfsyncd ${VERSION} started: ${config.carp.length} vhid(s), pfsync ${
        this.pfsync.enabled
          ? `on ${config.pfsync.syncif ?? "-"}${
            config.pfsync.syncpeer ? ` peer ${config.pfsync.syncpeer}` : ""
          }`
          : "off"
      }, provider ${this.provider.name}, control ${config.control}`,
    );
  }

  #openProvider(interfaces: Interface[], hostId: number): StateProvider {
    const config = this.#config;
    if (config.provider !== "conntrack") {
      this.memory = new MemoryProvider({ lookup: this.table, hostId });
      return this.memory;
    }
    // The firewall's own addresses and the sync link are left out, as pf's no-sync would.
    const ownAddresses = interfaces.flatMap((i) => i.addresses.map((a) => formatCidr(a)));
    const sync = interfaces.find((i) => i.name === config.pfsync.syncif);
    const log = this.logger.child({ component: "conntrack" });
    const ct = config.conntrack;
    const provider = new ConntrackProvider({
      creatorId: hostId,
      reactor: this.reactor,
      filter: buildFilter({
        protocols: ct.protocols,
        include: ct.include.map(formatCidr),
        exclude: ct.exclude.map(formatCidr),
        tcpStates: ct.tcpStates,
        syncOwn: ct.syncOwn,
        ownAddresses,
        syncLinks: sync ? sync.addresses.map((a) => formatCidr(a)) : [],
      }),
      fixEventsSysctl: ct.fixEventsSysctl,
      sweepIntervalMs: ct.sweepIntervalMs,
      log: (level, message) =>
        level === "error"
          ? log.error(message)
          : level === "warn"
          ? log.warning(message)
          : log.info(message),
    });
    return provider;
  }

  status(): StatusResult {
    const demotion = this.carp.host.demotion;
    const pf = this.pfsync.engine.status();
    const bulkPhase = pf.bulk.pending
      ? (pf.bulk.received > 0 ? "receiving" : "requested")
      : pf.bulk.outcome === "done"
      ? "done"
      : pf.bulk.outcome === "gave-up"
      ? "failed"
      : "idle";
    return {
      version: VERSION,
      pid: Deno.pid,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      carp: this.carp.status(),
      carpStats: { ...this.carp.host.stats } as unknown as Record<string, number>,
      pfsync: {
        syncif: pf.syncif,
        syncpeer: pf.syncpeer,
        maxupd: pf.maxupd,
        bulk: {
          phase: bulkPhase,
          statesReceived: pf.bulk.received,
          tries: pf.bulk.tries,
          holdingPreemption: pf.bulk.holding,
        },
        stats: { ...pf.stats } as unknown as Record<string, number>,
        lastReceiveAt: this.pfsync?.lastReceiveAt || undefined,
        heal: { ...pf.heal },
      },
      demotion: {
        value: demotionTotal(demotion),
        reasons: demotion.entries.map((e) => ({
          reason: `${e.reason} ${e.source}`,
          delta: e.amount,
        })),
        maintenance: demotion.entries.some((e) => e.source === "maintenance"),
      },
      states: { count: this.table.size },
      ...(this.provider instanceof ConntrackProvider
        ? { conntrack: conntrackCounters(this.provider) }
        : {}),
    };
  }

  /** SIGUSR1: the whole status as one log line (and no debugger left open, see below). */
  dumpStatus(): void {
    const inspectorWasOpen = inspector.url() !== undefined;
    this.logger.info(`status: ${JSON.stringify(this.status())}`);
    if (!inspectorWasOpen) closeSignalInspector(this.logger);
  }

  hookRuns(): Record<string, number> {
    return { ...this.#hookRuns };
  }
  readonly #hookRuns: Record<string, number> = {};

  /** Reads the configuration again; on errors the running one stays. */
  async reload(): Promise<{ reloaded: boolean; changes: string[] }> {
    const log = this.logger;
    const { config, errors } = await this.#options.reloadConfig();
    if (!config || errors.length > 0) {
      for (const line of errors) log.error(`reload: ${line}`);
      log.error("reload: configuration has errors; the running configuration stays");
      return { reloaded: false, changes: errors };
    }
    const changes: string[] = [];
    const key = (v: CarpVhostConfig) => `${v.vhid}@${v.parent}`;
    const next = new Map(config.carp.map((v) => [key(v), v]));
    for (const vhost of [...this.carp.host.vhosts]) {
      const k = `${vhost.vhid}@${vhost.parent}`;
      const wanted = next.get(k);
      if (!wanted) {
        await this.carp.removeVhost(vhost.vhid, vhost.parent);
        changes.push(`vhid ${k} removed`);
      } else if (Boolean(wanted.virtualMac) !== Boolean(vhost.config.virtualMac)) {
        // Where the addresses live changes (parent or macvlan): the vhid starts over, as at a
        // restart — a MASTER bows out first, so its peer holds the addresses meanwhile.
        await this.carp.removeVhost(vhost.vhid, vhost.parent);
        try {
          this.carp.addVhost(wanted);
          this.carp.host.vhosts.find((v) => `${v.vhid}@${v.parent}` === k)?.start();
          changes.push(`vhid ${k} restarted: virtual_mac ${wanted.virtualMac ? "on" : "off"}`);
        } catch (error) {
          log.error(`reload: vhid ${k}: ${(error as Error).message}`);
        }
      } else {
        // Described before applying: afterwards the vhost's config is the new one.
        const described = describeVhostChange(k, vhost.config, wanted);
        if (described.length > 0) {
          vhost.reconfigure(wanted, config.sysctl);
          changes.push(...described);
        }
      }
      next.delete(k);
    }
    for (const [k, vhost] of next) {
      try {
        this.carp.addVhost(vhost);
        this.carp.host.vhosts.find((v) => `${v.vhid}@${v.parent}` === k)?.start();
        changes.push(`vhid ${k} added`);
      } catch (error) {
        log.error(`reload: vhid ${k}: ${(error as Error).message}`);
      }
    }
    if (JSON.stringify(config.sysctl) !== JSON.stringify(this.#config.sysctl)) {
      this.carp.host.setSysctls(config.sysctl);
      changes.push("net.inet.carp sysctls changed");
    }
    if (JSON.stringify(config.pfsync) !== JSON.stringify(this.#config.pfsync)) {
      log.warning("reload: pfsync settings changed; they take effect at the next restart");
      changes.push("pfsync settings changed (restart to apply)");
    }
    this.#config = config;
    log.info(`reload: done${changes.length ? `: ${changes.join("; ")}` : " (no changes)"}`);
    return { reloaded: true, changes };
  }

  /** Graceful stop: bow out, remove virtual addresses, flush pfsync, close everything. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  /** Resolves when the agent has stopped. */
  async finished(): Promise<void> {
    await this.#reactorDone;
    await this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.logger.info("stopping: bowing out and removing virtual addresses");
    try {
      await this.carp?.shutdown();
    } catch (error) {
      this.logger.error(`stopping: carp: ${(error as Error).message}`);
    }
    await this.#teardown();
    this.logger.info("stopped");
  }

  async #teardown(): Promise<void> {
    if (this.#purgeTimer !== undefined) clearInterval(this.#purgeTimer);
    this.pfsync?.stop();
    this.carp?.close();
    await this.#links?.close().catch(() => {});
    await this.#control?.close().catch(() => {});
    await this.#metrics?.close().catch(() => {});
    this.#providerLink?.disconnect();
    await this.provider?.close();
    await this.reactor.close();
  }
}

/** The conntrack provider's counters, flat: what `status` shows and metrics can export. */
function conntrackCounters(p: ConntrackProvider): Record<string, number> {
  const { filteredBy, eventsSysctl, ...plain } = p.stats;
  const out: Record<string, number> = { ...plain };
  for (const [reason, n] of Object.entries(filteredBy)) out[`filtered.${reason}`] = n ?? 0;
  for (const [outcome, n] of Object.entries(p.applier.counters)) out[`apply.${outcome}`] = n;
  out.announced = p.announcedCount;
  out.learned = p.learnedCount;
  const sysctl = Number(eventsSysctl);
  if (Number.isInteger(sysctl)) out.eventsSysctl = sysctl;
  return out;
}

function describeVhostChange(key: string, a: CarpVhostConfig, b: CarpVhostConfig): string[] {
  const out: string[] = [];
  for (const field of ["advbase", "advskew", "pass", "state", "interface"] as const) {
    if (a[field] !== b[field]) {
      const shown = (v: unknown) => field === "pass" ? "****" : String(v);
      out.push(`vhid ${key} ${field} ${shown(a[field])} -> ${shown(b[field])}`);
    }
  }
  const addrs = (v: CarpVhostConfig) =>
    v.addresses.map((c) => `${Array.from(c.address).join(".")}/${c.prefix}`).join(",");
  if (addrs(a) !== addrs(b)) out.push(`vhid ${key} addresses changed`);
  return out;
}

/** The `result` label of pfsyncd_hook_runs_total. */
export function hookOutcome(result: HookResult | undefined): string {
  if (!result) return "error";
  if (result.timedOut) return "timeout";
  if (result.signal) return "killed";
  return result.code === 0 ? "ok" : "failed";
}

/**
 * Deno 2.9.2 and later follow Node: SIGUSR1 also starts the V8 inspector on
 * 127.0.0.1:9229, which for a root daemon is a local code-execution port. It
 * is started on another thread shortly after our listener runs, so look for it
 * a few times and close it; an inspector that was already open (--inspect on
 * purpose) is left alone by the caller.
 */
function closeSignalInspector(log: Logger): void {
  // Then every 500 ms up to 15 s: on a loaded host the runtime's thread has been seen to
  // open it later than 1 s.
  const late = Array.from({ length: 28 }, (_, i) => 1_500 + i * 500);
  for (const delay of [0, 5, 20, 50, 100, 250, 600, 1_000, ...late]) {
    const timer = setTimeout(() => {
      if (inspector.url() === undefined) return;
      inspector.close();
      log.warning("SIGUSR1 opened the V8 inspector (Deno >= 2.9.2); closed it again");
    }, delay);
    Deno.unrefTimer(timer);
  }
}
