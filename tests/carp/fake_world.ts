/**
 * A fake clock and an in-memory Ethernet for driving real VirtualHost/CarpHost
 * objects: packets take `latencyMs` to arrive, timers fire in time order.
 */
import {
  CarpHost,
  type CarpPorts,
  type CarpSysctls,
  type CarpVhostConfig,
  DEFAULT_SYSCTLS,
  type TransitionInfo,
  type VhostOptions,
  type VirtualHost,
} from "../../lib/carp/mod.ts";
import { type Cidr, type Family, formatCidr, parseAddress, parseCidr } from "../../lib/net/mod.ts";

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

export class FakeClock {
  now = 0;
  #timers: Timer[] = [];
  #seq = 0;

  schedule(delayMs: number, callback: () => void): () => void {
    const timer = { at: this.now + delayMs, seq: this.#seq++, callback, cancelled: false };
    this.#timers.push(timer);
    return () => timer.cancelled = true;
  }

  /** Runs every timer due up to `this.now + ms`, in order, then sets the clock there. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.now = Math.max(this.now, next.at);
      next.callback();
    }
    this.now = target;
  }
}

export const cidr = (text: string): Cidr => parseCidr(text)!;

export function vhostConfig(overrides: Partial<CarpVhostConfig> = {}): CarpVhostConfig {
  return {
    interface: "eth1",
    vhid: 1,
    parent: "eth1",
    advbase: 1,
    advskew: 0,
    pass: "s3cret",
    addresses: [cidr("192.0.2.100/24")],
    ...overrides,
  };
}

/** What a node's ports were asked to do, as readable strings with timestamps. */
export interface Recorder {
  readonly actions: string[];
  readonly logs: string[];
  readonly hooks: TransitionInfo[];
  readonly sent: Array<{ at: number; family: Family; bytes: Uint8Array }>;
}

export function recordingPorts(
  clock: FakeClock,
  deliver: (family: Family, bytes: Uint8Array) => void = () => {},
  options: { failSends?: () => boolean; random?: () => bigint } = {},
): { ports: CarpPorts; record: Recorder } {
  const record: Recorder = { actions: [], logs: [], hooks: [], sent: [] };
  const list = (a: readonly Cidr[]) => a.map(formatCidr).join(",");
  const ports: CarpPorts = {
    now: () => clock.now,
    schedule: (ms, cb) => clock.schedule(ms, cb),
    send(family, bytes) {
      if (options.failSends?.()) throw new Error("sendto: ENOBUFS");
      record.sent.push({ at: clock.now, family, bytes: bytes.slice() });
      deliver(family, bytes.slice());
    },
    addAddresses: (a) => void record.actions.push(`add ${list(a)}`),
    removeAddresses: (a) => void record.actions.push(`remove ${list(a)}`),
    gratuitousArp: (a) => void record.actions.push(`garp ${list(a)}`),
    unsolicitedNa: (a) => void record.actions.push(`na ${list(a)}`),
    runHook: (t) => void record.hooks.push(t),
    log: (line) => void record.logs.push(line),
    random64: options.random,
  };
  return { ports, record };
}

/** One firewall on the fake wire: a CarpHost, its own address, its recorders. */
export class Node {
  readonly host: CarpHost;
  readonly records = new Map<number, Recorder>();
  readonly linksDown = new Set<string>();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly network: Network,
    sysctls: Partial<CarpSysctls> = {},
  ) {
    this.host = new CarpHost({ ...DEFAULT_SYSCTLS, ...sysctls }, {
      ownAddresses: () => [parseAddress(address)!.address],
      log: () => {},
    });
    network.nodes.push(this);
  }

  add(config: CarpVhostConfig, options: VhostOptions = {}): VirtualHost {
    const { ports, record } = recordingPorts(
      this.network.clock,
      (family, bytes) => this.network.transmit(this, config.parent, family, bytes),
    );
    this.records.set(config.vhid, record);
    return this.host.addVhost(config, ports, options);
  }

  vhost(vhid: number): VirtualHost {
    return this.host.vhosts.find((v) => v.vhid === vhid)!;
  }

  setLink(parent: string, up: boolean): void {
    if (up) this.linksDown.delete(parent);
    else this.linksDown.add(parent);
    this.host.linkChanged(parent, up);
  }
}

export class Network {
  readonly clock = new FakeClock();
  readonly nodes: Node[] = [];
  constructor(readonly latencyMs = 1) {}

  /** Multicast to every other node on the same segment (same parent name), after the latency. */
  transmit(from: Node, parent: string, family: Family, bytes: Uint8Array): void {
    if (from.linksDown.has(parent)) return;
    for (const node of this.nodes) {
      if (node === from) continue;
      this.clock.schedule(this.latencyMs, () => {
        if (node.linksDown.has(parent) || from.linksDown.has(parent)) return;
        node.host.receive({
          family,
          ttl: 255,
          iface: parent,
          source: parseAddress(from.address)!.address,
          payload: bytes,
        });
      });
    }
  }

  states(vhid: number): string {
    return this.nodes.map((n) => `${n.name}:${n.vhost(vhid).state}`).join(" ");
  }
}
