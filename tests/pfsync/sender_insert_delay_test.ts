/**
 * PfsyncSender `insertDelayMs`: new states leave after the (short) insert
 * delay while updates keep coalescing for the whole send interval; the
 * default stays pf's single 1 s timer.
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  type Outgoing,
  PFSYNC_ACT_INS,
  PFSYNC_ACT_UPD_C,
  PfsyncSender,
} from "../../lib/pfsync/mod.ts";
import { QUICK_INSERT_DELAY_MS } from "../../lib/pfsync/sender.ts";
import { makeState } from "./fixtures.ts";

const summary = (out: Outgoing[]) => out.map((o) => [o.action, o.records]);

Deno.test("PfsyncSender with insertDelayMs sends a lone INS after the delay, UPD after the interval", () => {
  const sender = new PfsyncSender({ insertDelayMs: QUICK_INSERT_DELAY_MS });
  sender.insert(makeState(), 100);
  sender.update(makeState(), 100);
  assertEquals(sender.nextDeadline(), 100 + QUICK_INSERT_DELAY_MS);
  sender.tick(100 + QUICK_INSERT_DELAY_MS - 1);
  assertEquals(sender.take(), []);
  sender.tick(100 + QUICK_INSERT_DELAY_MS);
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_INS, 1]]);
  assertEquals(sender.nextDeadline(), 1100);
  sender.tick(1099);
  assertEquals(sender.take(), []);
  sender.tick(1100);
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_UPD_C, 1]]);
});

Deno.test("PfsyncSender with insertDelayMs still fills packets with a burst of inserts", () => {
  const sender = new PfsyncSender({ insertDelayMs: QUICK_INSERT_DELAY_MS, mtu: 1500 });
  for (let i = 0; i < 14; i++) sender.insert(makeState(), 0);
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_INS, 6], [PFSYNC_ACT_INS, 6]]);
  sender.tick(QUICK_INSERT_DELAY_MS);
  assertEquals(summary(sender.take()), [[PFSYNC_ACT_INS, 2]]);
});

Deno.test("PfsyncSender keeps pf's 1 s timer for inserts by default, and caps the delay at the interval", () => {
  const plain = new PfsyncSender();
  plain.insert(makeState(), 0);
  assertEquals(plain.nextDeadline(), 1000);
  const capped = new PfsyncSender({ intervalMs: 200, insertDelayMs: 5000 });
  assertEquals(capped.insertDelayMs, 200);
});
