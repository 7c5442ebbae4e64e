/** A receiver wired to real parts (table, sender, bulk halves) for the receiver tests. */
import {
  BulkRequester,
  BulkResponder,
  newPfsyncStats,
  type PfsyncAuth,
  PfsyncReceiver,
  PfsyncSender,
  type ReceiveMeta,
} from "../../lib/pfsync/mod.ts";
import { StateTable } from "../../lib/state/mod.ts";

export const PEER = "192.0.2.2";
export const META: ReceiveMeta = { ttl: 255, onSyncInterface: true, source: PEER };

export function receiverHarness(
  options: { auth?: PfsyncAuth; staleDetection?: boolean; enabled?: boolean } = {},
) {
  const clock = { ms: 1_000_000 };
  const table = new StateTable({ now: () => clock.ms });
  const sender = new PfsyncSender({ mtu: 1500 });
  const stats = newPfsyncStats();
  const requester = new BulkRequester({ maxRecords: sender.maxRecords });
  const responder = new BulkResponder(table, sender, { hostId: 0x0a0a0a0a });
  const receiver = new PfsyncReceiver({
    table,
    sender,
    stats,
    requester,
    responder,
    auth: options.auth,
    enabled: () => options.enabled ?? true,
    syncOk: () => !requester.isPending,
    staleDetection: options.staleDetection,
  });
  const receive = (bytes: Uint8Array, meta: ReceiveMeta = META) =>
    receiver.receive(meta, bytes, clock.ms);
  return { clock, table, sender, stats, requester, responder, receiver, receive };
}
