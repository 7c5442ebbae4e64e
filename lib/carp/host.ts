/**
 * All vhids of one host: receive dispatch, the shared statistics and the one
 * host demotion counter. A change of demotion is announced to every vhid so
 * MASTERs re-advertise at once and the host fails over as a whole (§4.6).
 */
import { DecodeError } from "../bytes/mod.ts";
import { formatAddress } from "../net/address.ts";
import {
  adjustDemotion,
  type Demotion,
  type DemotionReason,
  demotionTotal,
  healDemotion,
  NO_DEMOTION,
} from "./demotion.ts";
import { formatDrop, LOG_DEBUG, type LogLevel, shouldLog } from "./log.ts";
import {
  countReceived,
  fromIPv4Datagram,
  type ReceivedPacket,
  type ReceiveOutcome,
  validateCarpPacket,
} from "./receive.ts";
import { demotionAmount, type VhostOptions } from "./settings.ts";
import { type CarpStats, newCarpStats } from "./stats.ts";
import { demotionMode } from "./timing.ts";
import type { CarpStateName, CarpSysctls, CarpVhostConfig } from "./types.ts";
import { type CarpPorts, VirtualHost } from "./vhost.ts";

export interface CarpHostPorts {
  /** The host's own addresses (all interfaces): packets from them are our echoes. */
  ownAddresses(): readonly Uint8Array[];
  /** Already filtered by `net.inet.carp.log` (log.ts levels). */
  log(line: string, level: LogLevel): void;
  /** The host demotion changed (for watch events, metrics and the log). */
  demotionChanged?(total: number, demotion: Demotion): void;
}

export interface VhostStatus {
  readonly vhid: number;
  readonly interface: string;
  readonly parent: string;
  readonly state: CarpStateName;
  readonly advbase: number;
  readonly advskew: number;
  readonly effectiveAdvskew: number;
}

export class CarpHost {
  #sysctls: CarpSysctls;
  readonly #ports: CarpHostPorts;
  readonly stats: CarpStats = newCarpStats();
  readonly vhosts: VirtualHost[] = [];
  #demotion: Demotion;

  constructor(sysctls: CarpSysctls, ports: CarpHostPorts) {
    this.#sysctls = sysctls;
    this.#ports = ports;
    // FreeBSD 10+: the `demotion` sysctl value is the operator's starting contribution.
    this.#demotion = sysctls.demotion
      ? adjustDemotion(NO_DEMOTION, "operator", "sysctl", sysctls.demotion)
      : NO_DEMOTION;
  }

  get demotion(): Demotion {
    return this.#demotion;
  }

  get sysctls(): CarpSysctls {
    return this.#sysctls;
  }

  /** Creates the driver for a vhid, sharing this host's stats and demotion. */
  addVhost(config: CarpVhostConfig, ports: CarpPorts, options: VhostOptions = {}): VirtualHost {
    const clash = this.vhosts.find((v) => v.vhid === config.vhid && v.parent === config.parent);
    if (clash) throw new Error(`vhid ${config.vhid} is already configured on ${config.parent}`);
    const vhost = new VirtualHost(config, this.#sysctls, ports, options, {
      stats: this.stats,
      demotion: demotionTotal(this.#demotion),
    });
    // A vhid raises each of its causes once and takes it back whole, so a
    // factor changed by a reload in between cannot leave a remainder.
    vhost.onDemote = (delta, reason, source) =>
      delta < 0 ? this.heal(reason, source) : this.adjust(reason, source, delta);
    this.vhosts.push(vhost);
    return vhost;
  }

  start(): void {
    for (const v of this.vhosts) v.start();
  }

  /** Bows out every vhid and waits until their addresses are removed. */
  async shutdown(): Promise<void> {
    await Promise.all(this.vhosts.map((v) => v.shutdown()));
  }

  /** Validate (spec §1.5), count, and hand an accepted packet to its vhid. */
  receive(packet: ReceivedPacket): ReceiveOutcome<VirtualHost> {
    const outcome = validateCarpPacket(packet, {
      allow: this.#sysctls.allow,
      vhosts: this.vhosts,
      ownAddresses: this.#ports.ownAddresses(),
    });
    countReceived(this.stats, packet.family, outcome);
    if (outcome.kind === "dropped") {
      if (shouldLog(LOG_DEBUG, this.#sysctls.log)) {
        this.#ports.log(formatDrop(packet.iface, outcome.counter, outcome.detail), LOG_DEBUG);
      }
    } else if (outcome.kind === "accepted") {
      outcome.vhost.receive(outcome.header, formatAddress(packet.source), packet.family);
    }
    return outcome;
  }

  /** A whole IPv4 datagram from a raw socket; a broken IP header counts as `hdrops`. */
  receiveIPv4(datagram: Uint8Array, iface: string): ReceiveOutcome<VirtualHost> {
    let packet: ReceivedPacket;
    try {
      packet = fromIPv4Datagram(datagram, iface);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      const outcome = { kind: "dropped", counter: "hdrops", detail: error.message } as const;
      countReceived(this.stats, 4, outcome);
      return outcome;
    }
    return this.receive(packet);
  }

  /** Stops a vhid for good (T11): addresses removed, timer cancelled, forgotten. */
  async removeVhost(vhid: number, parent: string): Promise<void> {
    const index = this.vhosts.findIndex((v) => v.vhid === vhid && v.parent === parent);
    if (index < 0) return;
    const [vhost] = this.vhosts.splice(index, 1);
    await vhost.shutdown();
    // Whatever it still contributed to the host demotion ends with it.
    for (const e of this.#demotion.entries.filter((e) => e.source === `${vhid}@${parent}`)) {
      this.heal(e.reason, e.source);
    }
  }

  /** New sysctls on reload: every vhid re-runs T1 with them. */
  setSysctls(sysctls: CarpSysctls): void {
    const before = this.#sysctls.demotion ?? 0;
    this.#sysctls = sysctls;
    // The file's `demotion` is a level, not an increment: move our entry to it.
    this.adjust("operator", "sysctl", (sysctls.demotion ?? 0) - before);
    for (const v of this.vhosts) v.reconfigure(v.config, sysctls);
  }

  /** Link state of a parent (T7/T8) for every vhid on it. */
  linkChanged(parent: string, up: boolean): void {
    for (const v of this.vhosts) {
      if (v.parent === parent) v.linkChanged(up);
    }
  }

  /** Changes one named contribution and tells every vhid the new total. */
  adjust(reason: DemotionReason, source: string, delta: number): void {
    this.#apply(adjustDemotion(this.#demotion, reason, source, delta));
  }

  /** Removes a cause entirely once it has ended. */
  heal(reason: DemotionReason, source?: string): void {
    this.#apply(healDemotion(this.#demotion, reason, source));
  }

  /** pfsync bulk update pending (§4.7): demote until it completes or gives up. */
  setBulkUpdatePending(pending: boolean, peer = "bulk"): void {
    if (pending) {
      const has = this.#demotion.entries.some((e) => e.reason === "pfsync" && e.source === peer);
      if (!has) {
        this.adjust(
          "pfsync",
          peer,
          demotionAmount("pfsync", demotionMode(this.#sysctls), this.#sysctls),
        );
      }
    } else {
      this.heal("pfsync", peer);
    }
  }

  status(): VhostStatus[] {
    return this.vhosts.map((v) => ({
      vhid: v.vhid,
      interface: v.config.interface,
      parent: v.parent,
      state: v.state,
      advbase: v.config.advbase,
      advskew: v.config.advskew,
      effectiveAdvskew: v.effectiveAdvskew,
    }));
  }

  #apply(next: Demotion): void {
    const previous = demotionTotal(this.#demotion);
    this.#demotion = next;
    const total = demotionTotal(next);
    if (total === previous) return;
    for (const v of this.vhosts) v.demotionChanged(total, previous);
    this.#ports.demotionChanged?.(total, next);
  }
}
