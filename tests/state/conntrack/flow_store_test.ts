/** FlowStore: the mirror's per-flow columns keep each flow's fields through growth and reuse. */
import { FlowStore } from "../../../lib/state/conntrack/flow_store.ts";
import { assertEquals } from "../../helpers/assert.ts";

Deno.test("FlowStore keeps every flow's fields across growth, deletes and slot reuse", () => {
  const store = new FlowStore(4);
  const put = (key: string, n: number) => {
    const slot = store.add(key);
    store.firstSeen[slot] = n;
    store.at[slot] = n + 0.5;
    store.timeout[slot] = n * 2;
    store.id[slot] = (BigInt(n) << 32n) | 0xffffffffn;
    store.creatorId[slot] = n ^ 0xdeadbeef;
    store.sig[slot] = n + 7;
  };
  const read = (key: string) => {
    const slot = store.slot(key);
    if (slot < 0) return undefined;
    return [
      store.firstSeen[slot],
      store.at[slot],
      store.timeout[slot],
      store.id[slot],
      store.creatorId[slot],
      store.sig[slot],
    ];
  };
  const expected = (n: number) => [
    n,
    n + 0.5,
    n * 2,
    (BigInt(n) << 32n) | 0xffffffffn,
    (n ^ 0xdeadbeef) >>> 0,
    n + 7,
  ];
  for (let i = 0; i < 100; i++) put(`k${i}`, i); // grows 4 → 128
  for (let i = 0; i < 100; i += 2) assertEquals(store.delete(`k${i}`), true);
  assertEquals(store.delete("k0"), false);
  for (let i = 100; i < 150; i++) put(`k${i}`, i); // reuses the 50 freed slots
  assertEquals(store.size, 100);
  assertEquals(store.at.length, 128, "freed slots were reused, no growth");
  for (let i = 0; i < 150; i++) {
    assertEquals(read(`k${i}`), i < 100 && i % 2 === 0 ? undefined : expected(i), `k${i}`);
  }
  assertEquals(store.add("k1"), store.slot("k1"), "add() of a known key returns its slot");
  assertEquals(store.entries().length, 100);
  // A reused slot starts zeroed.
  store.delete("k1");
  const slot = store.add("fresh");
  assertEquals([store.at[slot], store.id[slot], store.sig[slot]], [0, 0n, 0]);
});
