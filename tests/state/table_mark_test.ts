/** StateTable refresh epochs: what a bulk update refreshed, and the purge of what it did not. */
import { assert, assertEquals } from "../helpers/assert.ts";
import { StateTable, type TableEvent } from "../../lib/state/mod.ts";
import { RecordSlab } from "../../lib/state/slab.ts";
import { makeState } from "../pfsync/fixtures.ts";

const PEER = { peer: "10.0.0.1" };

function tableWith() {
  const table = new StateTable({ now: () => 1_700_000_000_000 });
  const events: TableEvent[] = [];
  table.on((e) => events.push(e));
  const local = makeState({ creatorId: 2 });
  const own = makeState({ creatorId: 2 }); // another creator's, learned from the peer
  const learned = Array.from({ length: 6 }, () => makeState({ creatorId: 1 }));
  table.insert(local, "local");
  table.insert(own, PEER);
  for (const s of learned) table.insert(s, PEER);
  events.length = 0;
  return { table, events, local, own, learned };
}

Deno.test("StateTable.purgeUnrefreshed() removes a creator's peer states not written or touched since the epoch", () => {
  const { table, events, local, own, learned } = tableWith();
  const token = table.beginEpoch();
  // Refreshed after the epoch opened: a patch, a touch, a replace, and a new insert.
  table.patch(learned[0], { timeout: 3 }, PEER);
  assertEquals(table.touch(learned[1]), true);
  table.replace({ ...learned[2], timeout: 4 }, PEER);
  const fresh = makeState({ creatorId: 1 });
  table.insert(fresh, PEER);
  assertEquals(table.touch(makeState()), false, "touch of an unknown state");
  events.length = 0;
  const removed = table.purgeUnrefreshed(token, PEER, 1);
  assertEquals(removed, 3);
  const gone = events.map((e) => [e.type, e.state.id, e.origin]);
  assertEquals(gone, learned.slice(3).map((s) => ["delete", s.id, PEER]));
  for (const s of [local, own, fresh, ...learned.slice(0, 3)]) assert(table.has(s), `${s.id} kept`);
  assertEquals(table.size, 6);
  // Without a creator filter, the other creator's unrefreshed peer state goes too.
  assertEquals(table.purgeUnrefreshed(token, PEER), 1);
  assertEquals(table.has(own), false);
  assertEquals(table.has(local), true, "local origin is never purged");
});

Deno.test("StateTable epochs: a later token is stricter; an older one still keeps what it saw", () => {
  const { table, learned } = tableWith();
  const first = table.beginEpoch();
  table.touch(learned[0]);
  const second = table.beginEpoch();
  table.touch(learned[1]);
  assertEquals(table.purgeUnrefreshed(second, PEER, 1), 5); // all but learned[1]
  assertEquals(table.purgeUnrefreshed(first, PEER, 1), 0);
  assertEquals(table.has(learned[1]), true);
});

Deno.test("StateTable epochs wrap after 65535: marks reset and older tokens purge nothing", () => {
  const { table, learned } = tableWith();
  const old = table.beginEpoch();
  let token = old;
  for (let i = 0; i < 0x10000; i++) token = table.beginEpoch();
  assert(token !== old);
  assertEquals(table.purgeUnrefreshed(old, PEER, 1), 0, "a token from before the wrap");
  table.touch(learned[0]);
  assertEquals(table.purgeUnrefreshed(token, PEER, 1), 5);
  assertEquals(table.has(learned[0]), true);
});

Deno.test("RecordSlab metadata is 13 bytes a slot with the u16 refresh mark", () => {
  const slab = new RecordSlab(1000);
  assertEquals(slab.byteLength, 1000 * 13);
  assertEquals(slab.marks.length, 1000);
  for (let i = 0; i < 1001; i++) slab.allocate();
  assertEquals(slab.marks.length, 2000, "grows with the other arrays");
});
