/** BeaconSchedule: beacons after the last real packet, each twice as far, the last at lastMs. */
import { assertEquals } from "../helpers/assert.ts";
import { BeaconSchedule } from "../../lib/pfsync/beacon.ts";

function beaconTimes(schedule: BeaconSchedule, sentAt: number, until: number): number[] {
  const times: number[] = [];
  schedule.packetSent(sentAt);
  for (let now = sentAt; now <= until; now++) if (schedule.due(now)) times.push(now - sentAt);
  return times;
}

Deno.test("BeaconSchedule: when the beacons of a quiet spell go out", () => {
  const cases: [{ firstMs?: number; lastMs?: number }, number[]][] = [
    [{}, [25, 50, 100, 200, 400, 1_000]],
    [{ firstMs: 40, lastMs: 700 }, [40, 80, 160, 320, 700]],
    [{ firstMs: 1_000, lastMs: 1_000 }, [1_000]],
    [{ firstMs: 5_000, lastMs: 1_000 }, [1_000] /* first capped at last */],
  ];
  for (const [options, expected] of cases) {
    assertEquals(beaconTimes(new BeaconSchedule(options), 1_000, 20_000), expected);
  }
});

Deno.test("BeaconSchedule: a real packet starts the schedule over; none is due before one", () => {
  const s = new BeaconSchedule();
  assertEquals([s.deadline, s.due(1_000_000)], [undefined, false]);
  s.packetSent(0);
  assertEquals(s.due(25), true);
  s.packetSent(30);
  assertEquals(s.deadline, 55);
  assertEquals(s.due(54), false);
  assertEquals(s.due(55), true);
  assertEquals(s.deadline, 80);
});
