/** Shared fixtures for the election machine tests: settings, a runner, effect strings. */
import {
  type CarpEffect,
  type CarpEvent,
  type CarpMachine,
  type FsmSettings,
  initialMachine,
  step,
} from "../../lib/carp/mod.ts";

export function settings(overrides: Partial<FsmSettings> = {}): FsmSettings {
  return {
    vhid: 1,
    parent: "eth1",
    advbase: 1,
    advskew: 0,
    families: [4],
    preempt: false,
    mode: "5.4",
    senderrDemotion: 1,
    ifdownDemotion: 1,
    bowOut: true,
    delayedGarps: 1,
    ...overrides,
  };
}

/** One readable token per effect so tables can list them. */
export function describe(effect: CarpEffect): string {
  switch (effect.type) {
    case "send":
      return `send ${effect.advbase}/${effect.advskew}${effect.bowOut ? " bow-out" : ""}`;
    case "becomeMaster":
      return `${effect.from}->MASTER (${effect.reason})`;
    case "becomeBackup":
      return `${effect.from}->BACKUP (${effect.reason})`;
    case "becomeInit":
      return `${effect.from}->INIT (${effect.reason})`;
    case "addAddresses":
      return "add";
    case "removeAddresses":
      return "remove";
    case "gratuitousArp":
      return "garp";
    case "demote":
      return `demote ${effect.reason} ${
        effect.delta > 0 ? "+" : ""
      }${effect.delta} ${effect.source}`;
    case "log":
      return `log ${effect.message}`;
  }
}

/** Puts a machine in a state the way the world would: start, then events. */
export function machineIn(
  state: "INIT" | "BACKUP" | "MASTER",
  s: FsmSettings = settings(),
  demotion = 0,
): CarpMachine {
  let m = initialMachine(s, { demotion });
  if (state === "INIT") return m;
  m = step(m, { type: "start" }, 0).state;
  if (state === "MASTER" && m.state !== "MASTER") {
    m = step(m, { type: "forceState", state: "MASTER" }, 0).state;
  }
  if (m.state !== state) throw new Error(`fixture could not reach ${state}`);
  return m;
}

/** Runs timed events; returns the final machine and the effects of the last event. */
export function run(
  m: CarpMachine,
  events: ReadonlyArray<readonly [number, CarpEvent]>,
): { machine: CarpMachine; last: string[]; all: string[] } {
  let last: string[] = [];
  const all: string[] = [];
  for (const [now, event] of events) {
    const result = step(m, event, now);
    m = result.state;
    last = result.effects.map(describe);
    all.push(...last);
  }
  return { machine: m, last, all };
}

export function ad(
  advbase: number,
  advskew: number,
  source = "192.0.2.2",
  family: 4 | 6 = 4,
): CarpEvent {
  return { type: "advertisement", advbase, advskew, counter: 1n, source, family };
}
