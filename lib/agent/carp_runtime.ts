/**
 * The CARP shell: raw protocol-112 sockets on each parent interface, the
 * packet and ICMPv6 sockets for gratuitous ARP / unsolicited NA, rtnetlink
 * for the virtual addresses, and the hook queue — all handed to the pure
 * CarpHost/VirtualHost drivers as ports. Nothing here decides anything.
 */
import {
  CarpHost,
  type CarpPorts,
  type CarpStateName,
  type CarpSysctls,
  type CarpVhostConfig,
  describeDemotion,
  HookQueue,
  type HookResult,
  hookScriptsFor,
  LOG_DEBUG,
  LOG_ERROR,
  type LogLevel as CarpLogLevel,
  transitionHookJob,
  type TransitionInfo,
} from "../carp/mod.ts";
import { type Cidr, type Family, formatCidr } from "../net/address.ts";
import {
  addAddress,
  type Interface,
  NeighborAdvertiser,
  PacketSocket,
  RawIPv4Socket,
  RawIPv6Socket,
  type Reactor,
  removeAddress,
} from "../sys/mod.ts";
import type { CarpVhidStatus } from "../control/types.ts";
import type { Logger } from "./log.ts";
import type { WatchHub } from "../control/watch_hub.ts";
import { type LinkEndpoint, VirtualMacLink } from "./carp_vmac.ts";

type Timer = ReturnType<typeof setTimeout>;

const CARP_PROTOCOL = 112;
const CARP_GROUP_V4 = "224.0.0.18";
const CARP_GROUP_V6 = "ff02::12";
const CARP_TOS = 0x10;
/** Milliseconds of packets one reactor callback handles before handing back. */
const CARP_DRAIN_BUDGET_MS = 4;

/**
 * Whether `ifname` forwards IPv6 (`net.ipv6.conf.<ifname>.forwarding`, read
 * from /proc; false where it cannot be read). A router's NAs carry the
 * Router flag (RFC 4861 §4.4), unsolicited ones too: a Linux neighbour that hears R=0
 * from a node it knew as a router marks it a host and drops the routes it
 * learned from router advertisements of the NA's source address.
 */
export function forwardsIpv6(
  ifname: string,
  read: (path: string) => string = Deno.readTextFileSync,
): boolean {
  try {
    return read(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`).trim() === "1";
  } catch {
    return false;
  }
}

interface ParentLink {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  v4?: RawIPv4Socket;
  v6?: RawIPv6Socket;
}

export interface CarpRuntimeOptions {
  readonly reactor: Reactor;
  readonly logger: Logger;
  readonly hub: WatchHub;
  readonly sysctls: CarpSysctls;
  readonly hooks: { scripts: Record<string, string[]>; timeoutMs: number };
  readonly interfaces: readonly Interface[];
  /**
   * Extra gratuitous ARPs per announcement, two intervals apart, on top of the
   * machine's own schedule (fsm: one at takeover, `delayedGarps` more every two
   * advertisements). Default 0: the machine already sends the second one.
   */
  readonly garpRepeats?: number;
  /** Each hook run's result (undefined: the script could not start), for the metrics. */
  readonly onHookResult?: (result: HookResult | undefined) => void;
}

export class CarpRuntime {
  readonly host: CarpHost;
  readonly hooks: HookQueue;
  readonly #options: CarpRuntimeOptions;
  readonly #parents = new Map<string, ParentLink>();
  readonly #reasons = new Map<string, string>();
  #interfaces: readonly Interface[];
  #ownAddresses: Uint8Array[] = [];
  #packet?: PacketSocket;
  #advertiser?: NeighborAdvertiser;
  readonly #timers = new Set<Timer>();
  /** Per `vhid@parent` with `virtualMac` on: the macvlan that holds the addresses while MASTER. */
  readonly #vmacs = new Map<string, VirtualMacLink>();

  constructor(options: CarpRuntimeOptions) {
    this.#options = options;
    this.#interfaces = options.interfaces;
    this.#refreshOwnAddresses();
    const log = options.logger.child({ component: "carp" });
    this.hooks = new HookQueue({
      timeoutMs: options.hooks.timeoutMs,
      log: (l) => log.info(l),
      onResult: options.onHookResult,
    });
    this.host = new CarpHost(options.sysctls, {
      ownAddresses: () => this.#ownAddresses,
      log: (line, level) => this.#log(line, level),
      demotionChanged: (total, demotion) => {
        const reasons = describeDemotion(demotion);
        log.info(`demotion ${total} (${reasons})`);
        options.hub.publish({
          type: "demotion",
          ts: new Date().toISOString(),
          value: total,
          reason: reasons,
        });
      },
    });
  }

  /** Opens sockets as needed and creates the driver for one vhid (not started). */
  addVhost(config: CarpVhostConfig): void {
    const link = this.#parent(config.parent);
    const families = new Set(config.addresses.map((a) => a.family));
    if (families.has(4) && !link.v4) link.v4 = this.#openV4(link);
    if (families.has(6) && !link.v6) link.v6 = this.#openV6(link);
    this.host.addVhost(config, this.#ports(config, link));
  }

  start(): void {
    this.host.start();
  }

  /** Stops one vhid for good (reload): its addresses go, and its macvlan if it had one. */
  async removeVhost(vhid: number, parent: string): Promise<void> {
    await this.host.removeVhost(vhid, parent);
    const label = `${vhid}@${parent}`;
    const vmac = this.#vmacs.get(label);
    if (!vmac) return;
    this.#vmacs.delete(label);
    try {
      await vmac.destroy();
    } catch (error) {
      this.#log(`carp: delete ${vmac.name} failed: ${(error as Error).message}`, LOG_ERROR);
    }
  }

  /** Tells the vhids of `parent` that its link went down or up (T7/T8). */
  linkChanged(name: string, usable: boolean): void {
    if (this.#parents.has(name)) this.host.linkChanged(name, usable);
  }

  /** Our own addresses changed (a reload or an interface event): self-filtering follows. */
  setInterfaces(interfaces: readonly Interface[]): void {
    this.#interfaces = interfaces;
    this.#refreshOwnAddresses();
  }

  status(): CarpVhidStatus[] {
    return this.host.vhosts.map((v) => ({
      interface: v.config.interface,
      parent: v.parent,
      vhid: v.vhid,
      state: v.state,
      advbase: v.config.advbase,
      advskew: v.config.advskew,
      effectiveAdvskew: v.effectiveAdvskew,
      addresses: v.config.addresses.map(formatCidr),
      reason: this.#reasons.get(`${v.vhid}@${v.parent}`) ?? "",
    }));
  }

  /** Bow out, remove every virtual address, let the hooks finish, close sockets. */
  async shutdown(): Promise<void> {
    await this.host.shutdown();
    for (const vmac of this.#vmacs.values()) {
      try {
        await vmac.destroy();
      } catch (error) {
        this.#log(`carp: delete ${vmac.name} failed: ${(error as Error).message}`, LOG_ERROR);
      }
    }
    await Promise.race([this.hooks.idle(), delay(this.#options.hooks.timeoutMs + 1000)]);
    this.close();
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const link of this.#parents.values()) {
      for (const socket of [link.v4, link.v6]) {
        if (socket && !socket.closed) {
          this.#options.reactor.remove(socket.fd);
          socket.close();
        }
      }
    }
    this.#parents.clear();
    this.#packet?.close();
    this.#advertiser?.close();
    this.#packet = this.#advertiser = undefined;
  }

  #parent(name: string): ParentLink {
    const existing = this.#parents.get(name);
    if (existing) return existing;
    const iface = this.#interfaces.find((i) => i.name === name);
    if (!iface) {
      const known = this.#interfaces.map((i) => i.name).join(", ");
      throw new Error(`carp: parent interface ${name} does not exist (interfaces: ${known})`);
    }
    const link: ParentLink = {
      name,
      ifindex: iface.index,
      mac: iface.mac ?? new Uint8Array(6),
    };
    this.#parents.set(name, link);
    return link;
  }

  #openV4(link: ParentLink): RawIPv4Socket {
    const socket = RawIPv4Socket.open({
      protocol: CARP_PROTOCOL,
      device: link.name,
      multicastIfindex: link.ifindex,
      ttl: 255,
      multicastTtl: 255,
      multicastLoop: false,
      tos: CARP_TOS,
    });
    socket.joinGroup(CARP_GROUP_V4, link.ifindex);
    this.#options.reactor.add(socket, () => this.#drain(link, socket));
    return socket;
  }

  #openV6(link: ParentLink): RawIPv6Socket {
    const socket = RawIPv6Socket.open({
      protocol: CARP_PROTOCOL,
      device: link.name,
      multicastIfindex: link.ifindex,
      ttl: 255,
      multicastTtl: 255,
      multicastLoop: false,
    });
    socket.joinGroup(CARP_GROUP_V6, link.ifindex);
    this.#options.reactor.add(socket, () => this.#drain(link, socket));
    return socket;
  }

  /**
   * Reads what is waiting, a few milliseconds' worth at most (the reactor
   * polls again for the rest, and stays fair to the control socket); network
   * input is counted by the host, never thrown.
   */
  #drain(link: ParentLink, socket: RawIPv4Socket | RawIPv6Socket): void {
    const deadline = performance.now() + CARP_DRAIN_BUDGET_MS;
    for (let i = 1; i <= 1024; i++) {
      if ((i & 15) === 0 && performance.now() >= deadline) return;
      let packet;
      try {
        packet = socket.receive();
      } catch (error) {
        this.#log(`carp: ${link.name}: receive failed: ${(error as Error).message}`, LOG_ERROR);
        return;
      }
      if (!packet) return;
      try {
        this.host.receive({
          family: packet.family,
          ttl: packet.ttl,
          iface: link.name,
          source: packet.source,
          payload: packet.payload,
        });
      } catch (error) {
        this.#log(`carp: ${link.name}: packet handling failed: ${error}`, LOG_ERROR);
      }
    }
  }

  #ports(config: CarpVhostConfig, link: ParentLink): CarpPorts {
    const label = `${config.vhid}@${link.name}`;
    const isMaster = () =>
      this.host.vhosts.some((v) =>
        v.vhid === config.vhid && v.parent === config.parent && v.state === "MASTER"
      );
    let vmac: VirtualMacLink | undefined;
    if (config.virtualMac) {
      vmac = new VirtualMacLink(link, config.vhid);
      this.#vmacs.set(label, vmac);
    }
    // Takeover packets leave from the macvlan (virtual MAC) while it exists, else the parent.
    const endpoint = (): LinkEndpoint => vmac?.endpoint ?? link;
    return {
      now: () => performance.now(),
      schedule: (delayMs, callback) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          callback();
        }, Math.max(0, delayMs));
        this.#timers.add(timer);
        return () => {
          clearTimeout(timer);
          this.#timers.delete(timer);
        };
      },
      send: (family: Family, carp: Uint8Array) => {
        if (family === 4) {
          if (!link.v4) throw new Error(`carp: ${label}: no IPv4 socket on ${link.name}`);
          link.v4.sendTo(CARP_GROUP_V4, carp);
        } else {
          if (!link.v6) throw new Error(`carp: ${label}: no IPv6 socket on ${link.name}`);
          link.v6.sendTo(CARP_GROUP_V6, carp, link.ifindex);
        }
      },
      addAddresses: (addresses) =>
        vmac
          ? this.#addVirtualMac(vmac, link, addresses)
          : this.#changeAddresses("add", link, addresses),
      removeAddresses: (addresses) =>
        vmac
          ? this.#removeVirtualMac(vmac, link, addresses, isMaster())
          : this.#changeAddresses("remove", link, addresses),
      gratuitousArp: (addresses) => this.#announce(endpoint, addresses, config.advbase, isMaster),
      unsolicitedNa: (addresses) => this.#advertise(endpoint(), addresses),
      runHook: (transition) => this.#onTransition(transition),
      log: (line, level) => this.#log(line, level),
    };
  }

  /**
   * Virtual MAC on: the macvlan is created (or reused) and gets the addresses.
   * If it cannot be created the addresses go on the parent, as without the
   * option: the VIP answers with the parent's MAC rather than not at all.
   */
  async #addVirtualMac(
    vmac: VirtualMacLink,
    link: ParentLink,
    addresses: readonly Cidr[],
  ): Promise<void> {
    let ifindex: number;
    try {
      ifindex = await vmac.ensure();
    } catch (error) {
      this.#log(
        `carp: ${link.name}: virtual MAC ${vmac.name} unavailable, addresses go on the parent: ` +
          (error as Error).message,
        LOG_ERROR,
      );
      return this.#changeAddresses("add", link, addresses);
    }
    await this.#changeAddresses("add", { name: vmac.name, ifindex }, addresses);
  }

  /**
   * Virtual MAC on: leaving MASTER (or at start) deletes the macvlan with its
   * addresses; a reload that drops some addresses while MASTER removes just
   * those. The parent is cleared too, in case a fallback put them there.
   */
  async #removeVirtualMac(
    vmac: VirtualMacLink,
    link: ParentLink,
    addresses: readonly Cidr[],
    master: boolean,
  ): Promise<void> {
    await this.#changeAddresses("remove", link, addresses);
    const current = vmac.endpoint;
    if (master && current) {
      await this.#changeAddresses("remove", current, addresses);
      return;
    }
    try {
      await vmac.destroy();
    } catch (error) {
      this.#log(
        `carp: ${link.name}: delete ${vmac.name} failed: ${(error as Error).message}`,
        LOG_ERROR,
      );
    }
  }

  async #changeAddresses(
    how: "add" | "remove",
    link: { readonly name: string; readonly ifindex: number },
    addresses: readonly Cidr[],
  ): Promise<void> {
    for (const cidr of addresses) {
      try {
        if (how === "add") await addAddress(link.ifindex, cidr, { ifname: link.name });
        else await removeAddress(link.ifindex, cidr, { ifname: link.name });
      } catch (error) {
        this.#log(
          `carp: ${link.name}: ${how} ${formatCidr(cidr)} failed: ${(error as Error).message}`,
          LOG_ERROR,
        );
      }
    }
  }

  /**
   * One gratuitous ARP per IPv4 address now, and more two advertisement
   * intervals later, but only while the vhid is still MASTER: a repeat that
   * fires after a fast MASTER -> BACKUP (a preempt start, maintenance) would
   * pull the address back from the new master.
   */
  #announce(
    endpoint: () => LinkEndpoint,
    addresses: readonly Cidr[],
    advbase: number,
    stillMaster: () => boolean,
  ): void {
    const v4 = addresses.filter((a) => a.family === 4);
    if (v4.length === 0) return;
    const send = () => {
      const link = endpoint();
      try {
        this.#packet ??= PacketSocket.open();
        for (const cidr of v4) this.#packet.sendGratuitousArp(link.ifindex, cidr.address, link.mac);
      } catch (error) {
        this.#log(
          `carp: ${link.name}: gratuitous ARP failed: ${(error as Error).message}`,
          LOG_ERROR,
        );
      }
    };
    send();
    const repeats = this.#options.garpRepeats ?? 0;
    for (let i = 1; i <= repeats; i++) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (stillMaster()) send();
      }, 2 * advbase * 1000 * i);
      this.#timers.add(timer);
    }
  }

  #advertise(link: LinkEndpoint, addresses: readonly Cidr[]): void {
    const v6 = addresses.filter((a) => a.family === 6);
    if (v6.length === 0) return;
    try {
      this.#advertiser ??= NeighborAdvertiser.open();
      const router = forwardsIpv6(link.name);
      for (const cidr of v6) {
        this.#advertiser.sendUnsolicitedNa(link.ifindex, cidr.address, link.mac, router);
      }
    } catch (error) {
      this.#log(
        `carp: ${link.name}: unsolicited NA failed: ${(error as Error).message}`,
        LOG_ERROR,
      );
    }
  }

  #onTransition(transition: TransitionInfo): void {
    const { config, from, to, reason } = transition;
    this.#reasons.set(`${config.vhid}@${config.parent}`, reason);
    this.#options.hub.publish({
      type: "carp",
      ts: new Date().toISOString(),
      interface: config.interface,
      vhid: config.vhid,
      from: from as CarpStateName,
      to: to as CarpStateName,
      reason,
    });
    const scripts = hookScriptsFor(this.#options.hooks.scripts, config.vhid);
    if (scripts.length > 0) this.hooks.enqueue(transitionHookJob(transition, scripts));
  }

  #log(line: string, level: CarpLogLevel): void {
    const logger = this.#options.logger;
    if (level === LOG_ERROR) logger.error(line);
    else if (level === LOG_DEBUG) logger.debug(line);
    else logger.info(line);
  }

  #refreshOwnAddresses(): void {
    this.#ownAddresses = this.#interfaces.flatMap((i) => i.addresses.map((a) => a.address));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
