/**
 * Data of the per-vhid election machine (spec §4): its settings, state,
 * events and effects. Everything is readonly; `step()` in fsm.ts returns new
 * values. Times are milliseconds on the driver's monotonic clock.
 */
import type { Family } from "../net/address.ts";
import type { DemotionReason } from "./demotion.ts";
import type { CarpStateName, DemotionMode } from "./types.ts";

export interface FsmSettings {
  readonly vhid: number;
  /** Where the vhid lives; names the link in reasons and the demotion source. */
  readonly parent: string;
  readonly advbase: number;
  /** The configured advskew; demotion is applied on top (timing.ts). */
  readonly advskew: number;
  /** Families that have virtual addresses; each gets its own master-down timer. Empty: T11. */
  readonly families: readonly Family[];
  readonly preempt: boolean;
  readonly mode: DemotionMode;
  /** What one cause adds to the host demotion: 1 in 5.4 mode, the factor in 10+ mode. */
  readonly senderrDemotion: number;
  readonly ifdownDemotion: number;
  /** Send the 255/255 advertisement on shutdown (5.4/OpenBSD); 10+ and ucarp go silent. */
  readonly bowOut: boolean;
  /** Extra gratuitous ARP/NA rounds, one every two advertisements after takeover. */
  readonly delayedGarps: number;
  /** The `state` keyword of FreeBSD 10+: applied as T9 right after bring-up. */
  readonly initialState?: "master" | "backup";
}

export interface CarpMachine {
  readonly state: CarpStateName;
  readonly settings: FsmSettings;
  /** The host demotion total as last announced by `demotionChanged`. */
  readonly demotion: number;
  /** Administratively up: `start` seen, `shutdown` not. */
  readonly running: boolean;
  readonly linkUp: boolean;
  readonly advertiseAt: number | null;
  readonly masterDownAt: Readonly<Partial<Record<Family, number>>>;
  /** This vhid's own contributions to the host demotion, so it can take them back. */
  readonly linkDemoted: boolean;
  readonly senderrDemoted: boolean;
  readonly sendErrors: number;
  readonly sendSuccesses: number;
  readonly advertsSinceTakeover: number;
  readonly garpsPending: number;
}

/** A peer's advertisement that passed every check of spec §1.5. */
export interface PeerAdvertisement {
  readonly advbase: number;
  readonly advskew: number;
  readonly counter: bigint;
  /** The sender's address, printable, for reasons and logs. */
  readonly source: string;
  readonly family: Family;
}

export type CarpEvent =
  | { readonly type: "start" }
  | { readonly type: "tick" }
  | ({ readonly type: "advertisement" } & PeerAdvertisement)
  | { readonly type: "linkDown" }
  | { readonly type: "linkUp" }
  | { readonly type: "sendResult"; readonly ok: boolean }
  | { readonly type: "shutdown" }
  | { readonly type: "forceState"; readonly state: "BACKUP" | "MASTER" }
  | { readonly type: "configChanged"; readonly settings: FsmSettings }
  | { readonly type: "demotionChanged"; readonly total: number; readonly previous: number };

/** Why a transition happened, machine-readable; `reason` is the human text. */
export type TransitionCause =
  | "start"
  | "timeout"
  | "preempt"
  | "bowout"
  | "infrequent"
  | "better"
  | "equal"
  | "link"
  | "forced"
  | "shutdown"
  | "unconfigured";

interface Transition {
  readonly from: CarpStateName;
  readonly cause: TransitionCause;
  readonly reason: string;
}

export type CarpEffect =
  | {
    readonly type: "send";
    readonly advbase: number;
    readonly advskew: number;
    readonly bowOut: boolean;
  }
  | ({ readonly type: "becomeMaster" } & Transition)
  | ({ readonly type: "becomeBackup" } & Transition)
  | ({ readonly type: "becomeInit" } & Transition)
  | { readonly type: "addAddresses" }
  | { readonly type: "removeAddresses" }
  /** A gratuitous ARP per IPv4 VIP and an unsolicited NA per IPv6 VIP. */
  | { readonly type: "gratuitousArp" }
  | {
    readonly type: "demote";
    readonly delta: number;
    readonly reason: DemotionReason;
    readonly source: string;
  }
  /** 1: operator-relevant; 2: debug (sysctl `log` > 1). */
  | { readonly type: "log"; readonly level: 1 | 2; readonly message: string };

export interface StepResult {
  readonly state: CarpMachine;
  readonly effects: readonly CarpEffect[];
}

export function initialMachine(
  settings: FsmSettings,
  options: { demotion?: number; linkUp?: boolean } = {},
): CarpMachine {
  return {
    state: "INIT",
    settings,
    demotion: options.demotion ?? 0,
    running: false,
    linkUp: options.linkUp ?? true,
    advertiseAt: null,
    masterDownAt: {},
    linkDemoted: false,
    senderrDemoted: false,
    sendErrors: 0,
    sendSuccesses: 0,
    advertsSinceTakeover: 0,
    garpsPending: 0,
  };
}

/** The earliest deadline the driver must wake up for, or null when idle. */
export function nextDeadline(m: CarpMachine): number | null {
  const times = [m.advertiseAt, ...Object.values(m.masterDownAt)].filter(
    (t): t is number => typeof t === "number",
  );
  return times.length === 0 ? null : Math.min(...times);
}
