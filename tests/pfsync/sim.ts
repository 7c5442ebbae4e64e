/** An in-memory sync segment: engines on a shared fake clock, multicast to all others, unicast by address. */
import { PfsyncEngine, type PfsyncEngineConfig } from "../../lib/pfsync/mod.ts";
import { StateTable } from "../../lib/state/mod.ts";

export interface SimNode {
  readonly name: string;
  readonly address: string;
  readonly table: StateTable;
  readonly engine: PfsyncEngine;
  readonly holds: boolean[];
  /** Packets sent, idle-link beacons (empty UPD_C) not included. */
  sent: number;
  beacons: number;
  up: boolean;
}

export class Segment {
  now = 1_700_000_000_000;
  readonly nodes: SimNode[] = [];
  private readonly wire: { from: SimNode; to: string; bytes: Uint8Array }[] = [];
  /** Optional tap that may drop or rewrite packets in flight. */
  tap?: (packet: { from: SimNode; to: string; bytes: Uint8Array }) => Uint8Array | undefined;

  add(name: string, address: string, config: Partial<PfsyncEngineConfig> = {}): SimNode {
    const table = new StateTable({ now: () => this.now });
    const holds: boolean[] = [];
    const node = { name, address, table, holds, sent: 0, beacons: 0, up: true } as SimNode & {
      engine: PfsyncEngine;
    };
    node.engine = new PfsyncEngine(table, {
      send: (bytes, to) => {
        if (isBeacon(bytes)) node.beacons++;
        else node.sent++;
        this.wire.push({ from: node, to, bytes });
      },
      now: () => this.now,
      log: () => {},
      holdPreemption: (on) => holds.push(on),
    }, {
      syncif: "sync0",
      hostId: 0x10000000 + this.nodes.length,
      bulk: { tickMs: 10, batchPackets: 4 },
      ...config,
    });
    this.nodes.push(node);
    return node;
  }

  /** Delivers everything in flight (and whatever that provokes). */
  pump(): void {
    for (let guard = 0; this.wire.length > 0; guard++) {
      if (guard > 1_000_000) throw new Error("packet storm on the simulated segment");
      const packet = this.wire.shift()!;
      const bytes = this.tap ? this.tap(packet) : packet.bytes;
      if (!bytes) continue;
      for (const node of this.nodes) {
        if (node === packet.from || !node.up) continue;
        if (packet.to !== "224.0.0.240" && packet.to !== node.address) continue;
        node.engine.receive(
          { ttl: 255, onSyncInterface: true, source: packet.from.address },
          bytes,
        );
      }
    }
  }

  /** Advances the clock in steps, ticking every node and delivering packets. */
  run(ms: number, step = 10): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + step);
      for (const node of this.nodes) if (node.up) node.engine.tick(this.now);
      this.pump();
    }
  }
}

export function tableSummary(table: StateTable): string[] {
  return [...table.states()].map((s) => `${s.id}/${s.creatorId}/${s.src.seqlo}/${s.timeout}`)
    .sort();
}

/** An empty UPD_C: the engine's idle-link beacon. */
export function isBeacon(bytes: Uint8Array): boolean {
  return bytes[2] === 4 && bytes[3] === 0;
}
