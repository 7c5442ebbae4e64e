/**
 * The driver for one vhid: owns its election machine, feeds it the clock,
 * peer advertisements and link events, and performs its effects through
 * injected ports. Sends are synchronous so the election never waits on
 * address changes, ARP or hooks; those run on a serial chain in order.
 */
import { addressesEqual, type Cidr, type Family } from "../net/address.ts";
import type { DemotionReason } from "./demotion.ts";
import { step } from "./fsm.ts";
import {
  type CarpEffect,
  type CarpEvent,
  type CarpMachine,
  initialMachine,
  nextDeadline,
} from "./fsm_types.ts";
import { AdvertCounter, buildAdvertisement } from "./advert.ts";
import type { CarpHeader } from "./header.ts";
import { CarpAuthenticator } from "./hmac.ts";
import {
  formatTransition,
  formatVhostMessage,
  LOG_ERROR,
  LOG_STATE,
  type LogLevel,
  shouldLog,
} from "./log.ts";
import { fsmSettings, type VhostOptions } from "./settings.ts";
import { type CarpStats, newCarpStats } from "./stats.ts";
import { effectiveAdvskew } from "./timing.ts";
import type { CarpStateName, CarpSysctls, CarpVhostConfig } from "./types.ts";

export interface TransitionInfo {
  readonly config: CarpVhostConfig;
  readonly from: CarpStateName;
  readonly to: CarpStateName;
  readonly reason: string;
}

/** Everything the driver does to the world; tests pass fakes. */
export interface CarpPorts {
  /** Monotonic milliseconds. */
  now(): number;
  /** One-shot timer; returns its cancel function. */
  schedule(delayMs: number, callback: () => void): () => void;
  /** Sends one CARP header (36 bytes) to the group of `family`; throws on failure. */
  send(family: Family, carp: Uint8Array): void;
  addAddresses(addresses: readonly Cidr[]): void | Promise<void>;
  removeAddresses(addresses: readonly Cidr[]): void | Promise<void>;
  gratuitousArp(addresses: readonly Cidr[]): void | Promise<void>;
  unsolicitedNa(addresses: readonly Cidr[]): void | Promise<void>;
  runHook(transition: TransitionInfo): void;
  /** Already filtered by `net.inet.carp.log` (log.ts levels). */
  log(line: string, level: LogLevel): void;
  /** 64 random bits for the first counter values; crypto by default. */
  random64?(): bigint;
}

function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.prefix === b.prefix && addressesEqual(a.address, b.address);
}

export class VirtualHost {
  #config: CarpVhostConfig;
  #sysctls: CarpSysctls;
  readonly #options: VhostOptions;
  readonly #ports: CarpPorts;
  readonly stats: CarpStats;
  #machine: CarpMachine;
  #auth: CarpAuthenticator;
  readonly #counter: AdvertCounter;
  #cancelTimer: (() => void) | null = null;
  #timerAt: number | null = null;
  #chain: Promise<void> = Promise.resolve();
  readonly #queue: CarpEvent[] = [];
  #busy = false;
  /** Set by the host: applies a demotion change to every vhost. */
  onDemote: (delta: number, reason: DemotionReason, source: string) => void = () => {};

  constructor(
    config: CarpVhostConfig,
    sysctls: CarpSysctls,
    ports: CarpPorts,
    options: VhostOptions = {},
    shared: { stats?: CarpStats; demotion?: number; linkUp?: boolean } = {},
  ) {
    this.#config = config;
    this.#sysctls = sysctls;
    this.#options = options;
    this.#ports = ports;
    this.stats = shared.stats ?? newCarpStats();
    this.#machine = initialMachine(fsmSettings(config, sysctls, options), shared);
    this.#auth = this.#authenticator();
    this.#counter = new AdvertCounter(ports.random64?.bind(ports));
  }

  get config(): CarpVhostConfig {
    return this.#config;
  }
  get sysctls(): CarpSysctls {
    return this.#sysctls;
  }
  get vhid(): number {
    return this.#config.vhid;
  }
  get parent(): string {
    return this.#config.parent;
  }
  get machine(): CarpMachine {
    return this.#machine;
  }
  get state(): CarpStateName {
    return this.#machine.state;
  }
  /** UP and RUNNING for receive validation (spec §1.5 step 6). */
  get running(): boolean {
    return this.#machine.running && this.#machine.linkUp;
  }
  /** The advskew this vhid currently advertises. */
  get effectiveAdvskew(): number {
    const m = this.#machine;
    return effectiveAdvskew(m.settings.advskew, m.demotion, m.settings.mode);
  }

  verify(counter: bigint, hmac: Uint8Array): boolean {
    return this.#auth.verify(counter, hmac);
  }

  start(): void {
    this.dispatch({ type: "start" });
  }

  /** A packet that passed validation: adopt its counter (§2.4), then T4. */
  receive(header: CarpHeader, source: string, family: Family): void {
    this.#counter.adopt(header.counter);
    this.dispatch({
      type: "advertisement",
      advbase: header.advbase,
      advskew: header.advskew,
      counter: header.counter,
      source,
      family,
    });
  }

  linkChanged(up: boolean): void {
    this.dispatch({ type: up ? "linkUp" : "linkDown" });
  }

  forceState(state: "BACKUP" | "MASTER"): void {
    this.dispatch({ type: "forceState", state });
  }

  demotionChanged(total: number, previous: number): void {
    this.dispatch({ type: "demotionChanged", total, previous });
  }

  /**
   * T1 with new parameters (vhid and parent stay; the host replaces a vhost
   * whose identity changed). A MASTER swaps the VIPs that changed at once.
   */
  reconfigure(config: CarpVhostConfig, sysctls: CarpSysctls): void {
    const before = this.#config.addresses;
    this.#config = config;
    this.#sysctls = sysctls;
    this.#auth = this.#authenticator();
    if (this.state === "MASTER") {
      const gone = before.filter((a) => !config.addresses.some((b) => sameCidr(a, b)));
      const added = config.addresses.filter((a) => !before.some((b) => sameCidr(a, b)));
      if (gone.length > 0) this.#later("remove addresses", () => this.#ports.removeAddresses(gone));
      if (added.length > 0) {
        this.#later("add addresses", () => this.#ports.addAddresses(added));
        this.#announce(added);
      }
    }
    this.dispatch({ type: "configChanged", settings: fsmSettings(config, sysctls, this.#options) });
  }

  /** T5: bow out if MASTER, remove the addresses, stop the timer; resolves when done. */
  async shutdown(): Promise<void> {
    this.dispatch({ type: "shutdown" });
    this.#clearTimer();
    await this.settled();
  }

  /** Resolves when the address/ARP chain queued so far has run. */
  settled(): Promise<void> {
    return this.#chain;
  }

  /**
   * Events raised while effects are being performed (a send's result, a
   * demotion echo from the host) wait until every effect of the current step
   * has run, so effects always leave in the order the machine produced them.
   */
  dispatch(event: CarpEvent): void {
    this.#queue.push(event);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const result = step(this.#machine, next, this.#ports.now());
        this.#machine = result.state;
        for (const effect of result.effects) this.#perform(effect);
      }
    } finally {
      this.#busy = false;
      this.#queue.length = 0;
    }
    this.#reschedule();
  }

  #authenticator(): CarpAuthenticator {
    const addresses = this.#config.addresses.map((a) => a.address);
    return new CarpAuthenticator(
      this.#config.pass,
      this.#config.vhid,
      addresses,
      this.#options.hmacOrder ?? "configured",
    );
  }

  #perform(effect: CarpEffect): void {
    const label = (text: string) => formatVhostMessage(this.vhid, this.parent, text);
    switch (effect.type) {
      case "send":
        return this.#send(effect.advbase, effect.advskew);
      case "becomeMaster":
      case "becomeBackup":
      case "becomeInit": {
        const to = effect.type === "becomeMaster"
          ? "MASTER"
          : effect.type === "becomeBackup"
          ? "BACKUP"
          : "INIT";
        if (effect.cause === "preempt") this.stats.preempt++;
        this.#log(
          formatTransition(this.vhid, this.parent, effect.from, to, effect.reason),
          LOG_STATE,
        );
        this.#ports.runHook({ config: this.#config, from: effect.from, to, reason: effect.reason });
        return;
      }
      case "addAddresses":
        return this.#later("add addresses", () => this.#ports.addAddresses(this.#config.addresses));
      case "removeAddresses":
        return this.#later(
          "remove addresses",
          () => this.#ports.removeAddresses(this.#config.addresses),
        );
      case "gratuitousArp":
        return this.#announce(this.#config.addresses);
      case "demote":
        this.#log(
          label(`demotion ${effect.reason} ${effect.delta > 0 ? "+" : ""}${effect.delta}`),
          LOG_STATE,
        );
        return this.onDemote(effect.delta, effect.reason, effect.source);
      case "log":
        return this.#log(label(effect.message), effect.level);
    }
  }

  /** One packet per family with VIPs, each with its own counter value (§1.3). */
  #send(advbase: number, advskew: number): void {
    let ok = true;
    for (const family of this.#machine.settings.families) {
      const counter = this.#counter.next();
      const packet = buildAdvertisement(this.#auth, this.vhid, advbase, advskew, counter);
      try {
        this.#ports.send(family, packet);
        if (family === 4) this.stats.opackets++;
        else this.stats.opackets6++;
      } catch (error) {
        ok = false;
        this.stats.oerrors++;
        const text = `send IPv${family} advertisement: ${(error as Error).message}`;
        this.#log(formatVhostMessage(this.vhid, this.parent, text), LOG_ERROR);
      }
    }
    this.dispatch({ type: "sendResult", ok });
  }

  #log(line: string, level: LogLevel): void {
    if (shouldLog(level, this.#sysctls.log)) this.#ports.log(line, level);
  }

  /** Gratuitous ARP for the IPv4 VIPs, unsolicited NA for the IPv6 ones. */
  #announce(addresses: readonly Cidr[]): void {
    const v4 = addresses.filter((a) => a.family === 4);
    const v6 = addresses.filter((a) => a.family === 6);
    if (v4.length > 0) this.#later("gratuitous ARP", () => this.#ports.gratuitousArp(v4));
    if (v6.length > 0) this.#later("unsolicited NA", () => this.#ports.unsolicitedNa(v6));
  }

  #later(what: string, action: () => void | Promise<void>): void {
    this.#chain = this.#chain.then(action).catch((error) => {
      const text = `${what} failed: ${(error as Error).message}`;
      this.#log(formatVhostMessage(this.vhid, this.parent, text), LOG_ERROR);
    });
  }

  #reschedule(): void {
    const at = nextDeadline(this.#machine);
    if (at === this.#timerAt) return;
    this.#clearTimer();
    if (at === null) return;
    this.#timerAt = at;
    const delay = Math.max(0, at - this.#ports.now());
    this.#cancelTimer = this.#ports.schedule(delay, () => {
      this.#cancelTimer = null;
      this.#timerAt = null;
      this.dispatch({ type: "tick" });
    });
  }

  #clearTimer(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#timerAt = null;
  }
}
