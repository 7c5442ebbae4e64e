/**
 * The per-vhid CARP election machine, FreeBSD 5.4 semantics (spec §4.2
 * T1–T11) with FreeBSD 10+ demotion arithmetic when configured. Pure: the
 * driver feeds events with the current time and performs the effects.
 */
import type { Family } from "../net/address.ts";
import type {
  CarpEffect,
  CarpEvent,
  CarpMachine,
  FsmSettings,
  PeerAdvertisement,
  StepResult,
  TransitionCause,
} from "./fsm_types.ts";
import {
  advertisementIntervalMs,
  CARP_BOWOUT,
  CARP_DEADRATIO,
  compareTiming,
  effectiveAdvskew,
  isBowOut,
  masterDownIntervalMs,
} from "./timing.ts";

/** Kernel constants for T10: errors that demote, successes that heal. */
export const SENDAD_MAX_ERRORS = 3;
export const SENDAD_MIN_SUCCESS = 3;

type Result = { state: CarpMachine; effects: CarpEffect[] };

function ownSkew(m: CarpMachine): number {
  return effectiveAdvskew(m.settings.advskew, m.demotion, m.settings.mode);
}

function armMasterDown(m: CarpMachine, now: number, families: readonly Family[]): CarpMachine {
  const interval = masterDownIntervalMs(m.settings.advbase, m.settings.advskew);
  const masterDownAt = { ...m.masterDownAt };
  for (const f of families) masterDownAt[f] = now + interval;
  return { ...m, masterDownAt };
}

function advertise(m: CarpMachine, now: number, effects: CarpEffect[]): CarpMachine {
  const advskew = ownSkew(m);
  effects.push({ type: "send", advbase: m.settings.advbase, advskew, bowOut: false });
  return { ...m, advertiseAt: now + advertisementIntervalMs(m.settings.advbase, advskew) };
}

function toMaster(m: CarpMachine, now: number, cause: TransitionCause, reason: string): Result {
  const effects: CarpEffect[] = [];
  const from = m.state;
  let next: CarpMachine = { ...m, state: "MASTER", masterDownAt: {} };
  next = advertise(next, now, effects);
  next = { ...next, advertsSinceTakeover: 0, garpsPending: m.settings.delayedGarps };
  effects.push(
    { type: "becomeMaster", from, cause, reason },
    { type: "addAddresses" },
    { type: "gratuitousArp" },
  );
  return { state: next, effects };
}

function toBackup(m: CarpMachine, now: number, cause: TransitionCause, reason: string): Result {
  const next = armMasterDown(
    { ...m, state: "BACKUP", advertiseAt: null, masterDownAt: {} },
    now,
    m.settings.families,
  );
  const effects: CarpEffect[] = [];
  if (m.state !== "BACKUP") effects.push({ type: "becomeBackup", from: m.state, cause, reason });
  effects.push({ type: "removeAddresses" });
  return { state: next, effects };
}

function toInit(m: CarpMachine, cause: TransitionCause, reason: string): Result {
  const next: CarpMachine = { ...m, state: "INIT", advertiseAt: null, masterDownAt: {} };
  if (m.state === "INIT") return { state: next, effects: [] };
  return {
    state: next,
    effects: [{ type: "removeAddresses" }, { type: "becomeInit", from: m.state, cause, reason }],
  };
}

/** T1 (and T6/T8, which end in it): bring-up or reconfiguration. */
function setrun(m: CarpMachine, now: number, reason: string): Result {
  if (!m.running || !m.linkUp) return toInit(m, "unconfigured", reason);
  if (m.settings.families.length === 0) return toInit(m, "unconfigured", "no addresses");
  switch (m.state) {
    case "INIT": {
      // A configured `state backup` would undo the shortcut at once; skip it instead.
      const shortcut = m.settings.mode === "5.4" && m.settings.preempt && m.demotion <= 0 &&
        m.settings.initialState !== "backup";
      const first = shortcut
        ? toMaster(m, now, "start", `${reason}, preempt`)
        : toBackup(m, now, "start", reason);
      return applyInitialState(first, now);
    }
    case "BACKUP": {
      // Families may have changed: a timer for a family without VIPs must not survive.
      const cleared = { ...m, masterDownAt: {} };
      return { state: armMasterDown(cleared, now, m.settings.families), effects: [] };
    }
    case "MASTER": {
      // The kernel re-arms with the raw advskew here; the next send corrects it.
      const at = now + advertisementIntervalMs(m.settings.advbase, m.settings.advskew);
      return { state: { ...m, advertiseAt: at }, effects: [] };
    }
  }
}

function applyInitialState(first: Result, now: number): Result {
  const wanted = first.state.settings.initialState;
  if (wanted === undefined) return first;
  const target = wanted === "master" ? "MASTER" : "BACKUP";
  if (first.state.state === target) return first;
  const forced = forceState(first.state, now, target, `configured state ${wanted}`);
  return { state: forced.state, effects: [...first.effects, ...forced.effects] };
}

/** T9: operator or configured `state`. Only from a running machine. */
function forceState(
  m: CarpMachine,
  now: number,
  target: "BACKUP" | "MASTER",
  reason = "forced by operator",
): Result {
  if (m.state === "INIT") {
    return {
      state: m,
      effects: [{ type: "log", level: 2, message: `cannot force ${target} in INIT` }],
    };
  }
  if (target === "BACKUP") return toBackup(m, now, "forced", reason);
  if (m.state === "BACKUP") return toMaster(m, now, "forced", reason);
  return { state: m, effects: [] };
}

/** T2, T3 and the delayed gratuitous ARPs. */
function tick(m: CarpMachine, now: number): Result {
  if (m.state === "BACKUP") {
    const expired = Object.values(m.masterDownAt).some((t) => t !== undefined && t <= now);
    return expired ? toMaster(m, now, "timeout", "master timed out") : { state: m, effects: [] };
  }
  if (m.state !== "MASTER" || m.advertiseAt === null || m.advertiseAt > now) {
    return { state: m, effects: [] };
  }
  const effects: CarpEffect[] = [];
  let next = advertise(m, now, effects);
  const count = next.advertsSinceTakeover + 1;
  next = { ...next, advertsSinceTakeover: count };
  if (next.garpsPending > 0 && count % 2 === 0) {
    effects.push({ type: "gratuitousArp" });
    next = { ...next, garpsPending: next.garpsPending - 1 };
  }
  return { state: next, effects };
}

/** T4: a valid advertisement from a peer. */
function received(m: CarpMachine, now: number, ad: PeerAdvertisement): Result {
  const local = { advbase: m.settings.advbase, advskew: ownSkew(m) };
  const order = compareTiming(ad, local);
  if (m.state === "MASTER") {
    if (order < 0) return toBackup(m, now, "better", `preempted by ${ad.source}`);
    if (order === 0) return toBackup(m, now, "equal", `equal advertisement from ${ad.source}`);
    return {
      state: m,
      effects: [{ type: "log", level: 2, message: `ignoring worse master ${ad.source}` }],
    };
  }
  if (m.state !== "BACKUP") return { state: m, effects: [] };
  if (m.settings.preempt && order > 0) {
    return toMaster(m, now, "preempt", `preempting slower master ${ad.source}`);
  }
  const horizon = { advbase: CARP_DEADRATIO * m.settings.advbase, advskew: local.advskew };
  if (compareTiming(ad, horizon) > 0) {
    return isBowOut(ad)
      ? toMaster(m, now, "bowout", `bow-out from ${ad.source}`)
      : toMaster(m, now, "infrequent", `infrequent advertisement from ${ad.source}`);
  }
  return { state: armMasterDown(m, now, [ad.family]), effects: [] };
}

/** T5: administrative down; a MASTER bows out so the backup takes over at once. */
function shutdown(m: CarpMachine): Result {
  const stopped: CarpMachine = { ...m, running: false };
  if (m.state === "INIT") return { state: stopped, effects: [] };
  const effects: CarpEffect[] = [];
  if (m.state === "MASTER" && m.settings.bowOut) {
    effects.push({ type: "send", advbase: CARP_BOWOUT, advskew: CARP_BOWOUT, bowOut: true });
  }
  const down = toInit(stopped, "shutdown", "shutdown");
  return { state: down.state, effects: [...effects, ...down.effects] };
}

function demoteSource(m: CarpMachine): string {
  return `${m.settings.vhid}@${m.settings.parent}`;
}

/** T7: parent link down; this vhid goes INIT and demotes the host once. */
function linkDown(m: CarpMachine): Result {
  if (!m.linkUp) return { state: m, effects: [] };
  const down = toInit({ ...m, linkUp: false }, "link", `link ${m.settings.parent} down`);
  if (m.linkDemoted) return down;
  return {
    state: { ...down.state, linkDemoted: true },
    effects: [...down.effects, {
      type: "demote",
      delta: m.settings.ifdownDemotion,
      reason: "link",
      source: demoteSource(m),
    }],
  };
}

/** T8: link back; T1 runs while our own demotion still counts, then it is taken back. */
function linkUp(m: CarpMachine, now: number): Result {
  if (m.linkUp) return { state: m, effects: [] };
  const up = setrun({ ...m, linkUp: true, state: "INIT" }, now, `link ${m.settings.parent} up`);
  if (!m.linkDemoted) return up;
  return {
    state: { ...up.state, linkDemoted: false },
    effects: [...up.effects, {
      type: "demote",
      delta: -m.settings.ifdownDemotion,
      reason: "link",
      source: demoteSource(m),
    }],
  };
}

/** T10: three failed sends demote the host; three good ones after that heal it. */
function sendResult(m: CarpMachine, ok: boolean): Result {
  const amount = m.settings.senderrDemotion;
  const source = demoteSource(m);
  if (!ok) {
    const errors = m.sendErrors + 1;
    const next = { ...m, sendErrors: errors, sendSuccesses: 0 };
    if (errors !== SENDAD_MAX_ERRORS || m.senderrDemoted) return { state: next, effects: [] };
    return {
      state: { ...next, senderrDemoted: true },
      effects: [{ type: "demote", delta: amount, reason: "senderr", source }],
    };
  }
  if (m.sendErrors < SENDAD_MAX_ERRORS) return { state: { ...m, sendErrors: 0 }, effects: [] };
  const successes = m.sendSuccesses + 1;
  if (successes < SENDAD_MIN_SUCCESS) {
    return { state: { ...m, sendSuccesses: successes }, effects: [] };
  }
  const healed = { ...m, sendErrors: 0, sendSuccesses: 0, senderrDemoted: false };
  if (!m.senderrDemoted) return { state: healed, effects: [] };
  return {
    state: healed,
    effects: [{ type: "demote", delta: -amount, reason: "senderr", source }],
  };
}

/** The host total changed: 5.4 re-advertises when it leaves 0, 10+ on every change. */
function demotionChanged(m: CarpMachine, now: number, total: number, previous: number): Result {
  const next = { ...m, demotion: total };
  const announce = m.settings.mode === "10+" ? total !== previous : previous <= 0 && total > 0;
  if (m.state !== "MASTER" || !announce) return { state: next, effects: [] };
  const effects: CarpEffect[] = [];
  return { state: advertise(next, now, effects), effects };
}

function configChanged(m: CarpMachine, now: number, settings: FsmSettings): Result {
  const next = { ...m, settings };
  if (settings.families.length === 0) return toInit(next, "unconfigured", "no addresses");
  return setrun(next, now, "reconfigured");
}

export function step(m: CarpMachine, event: CarpEvent, now: number): StepResult {
  switch (event.type) {
    case "start":
      return setrun({ ...m, running: true }, now, "started");
    case "tick":
      return tick(m, now);
    case "advertisement":
      return received(m, now, event);
    case "linkDown":
      return linkDown(m);
    case "linkUp":
      return linkUp(m, now);
    case "sendResult":
      return sendResult(m, event.ok);
    case "shutdown":
      return shutdown(m);
    case "forceState":
      return forceState(m, now, event.state);
    case "configChanged":
      return configChanged(m, now, event.settings);
    case "demotionChanged":
      return demotionChanged(m, now, event.total, event.previous);
  }
}
