/**
 * Where local states come from and where learned ones go. A provider reports
 * local changes (memory imports, conntrack events) and applies states learned
 * from peers (no-op for memory, kernel injection for conntrack).
 * `connectProvider` wires one to the StateTable: provider changes enter the
 * table as origin "local"; peer-origin table events go to `apply`, and a
 * failing `apply` is reported and kept for `retryFailed`, never dropped.
 */
import type { Origin, StateTable, TableEvent } from "./table.ts";
import type { State } from "./types.ts";

export type ProviderChange =
  | { readonly type: "insert"; readonly state: State }
  | { readonly type: "update"; readonly state: State }
  | { readonly type: "delete"; readonly state: State };

export interface PeerChange {
  readonly type: "insert" | "update" | "delete";
  readonly state: State;
  /** The peer (source address) the change was learned from. */
  readonly peer: string;
}

export interface StateProvider {
  readonly name: string;
  /**
   * True when the StateTable itself is the store (memory provider): learned
   * states need no `apply`, and connectProvider does not subscribe for them
   * (a promise per learned state halves bulk-update throughput).
   */
  readonly passive?: boolean;
  /** The local table at start-up. */
  load(): Promise<readonly State[]>;
  /** Local changes, delivered synchronously in order; returns an unsubscribe function. */
  onChange(listener: (change: ProviderChange) => void): () => void;
  /** Makes a state learned from a peer real locally. */
  apply(change: PeerChange): Promise<void>;
  close(): Promise<void>;
}

export interface ProviderLink {
  /** Loaded states inserted. */
  readonly loaded: number;
  /** Peer changes whose apply failed and wait for a retry. */
  readonly failed: readonly PeerChange[];
  retryFailed(): Promise<number>;
  disconnect(): void;
}

export async function connectProvider(
  provider: StateProvider,
  table: StateTable,
  report: (message: string, error: unknown) => void,
): Promise<ProviderLink> {
  let loaded = 0;
  for (const state of await provider.load()) if (table.insert(state, "local")) loaded++;
  const failed: PeerChange[] = [];
  const offProvider = provider.onChange((change) => applyLocal(table, change));
  const attempt = (change: PeerChange) =>
    provider.apply(change).catch((error) => {
      failed.push(change);
      report(`${provider.name}: applying ${change.type} from ${change.peer} failed`, error);
    });
  const offTable = provider.passive ? () => {} : table.on((event: TableEvent) => {
    const peer = peerOf(event.origin);
    if (peer !== undefined) void attempt({ type: event.type, state: event.state, peer });
  });
  return {
    loaded,
    failed,
    async retryFailed() {
      const batch = failed.splice(0);
      await Promise.all(batch.map(attempt));
      return batch.length - failed.length;
    },
    disconnect() {
      offProvider();
      offTable();
    },
  };
}

function peerOf(origin: Origin): string | undefined {
  return origin === "local" ? undefined : origin.peer;
}

function applyLocal(table: StateTable, change: ProviderChange): void {
  if (change.type === "delete") table.delete(change.state, "local");
  else if (!table.replace(change.state, "local")) table.insert(change.state, "local");
}
