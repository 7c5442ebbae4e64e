/**
 * Turns a vhost's configuration and the host sysctls into the election
 * machine's settings: the demotion mode and amounts, families with VIPs.
 */
import type { Family } from "../net/address.ts";
import type { FsmSettings } from "./fsm_types.ts";
import { demotionMode, FREEBSD10_DEFAULT_FACTOR } from "./timing.ts";
import type { CarpSysctls, CarpVhostConfig, DemotionMode, HmacOrder } from "./types.ts";

export interface VhostOptions {
  /** Send the 255/255 bow-out on shutdown (default true, as the 5.4 kernel). */
  readonly bowOut?: boolean;
  /** Extra gratuitous ARP/NA rounds after takeover (default 1, as later OpenBSD and ucarp). */
  readonly delayedGarps?: number;
  /** HMAC address order (default "configured", the 5.4 rule). */
  readonly hmacOrder?: HmacOrder;
}

/** How much one cause adds to the host demotion in each mode. */
export function demotionAmount(
  cause: "link" | "senderr" | "pfsync",
  mode: DemotionMode,
  sysctls: CarpSysctls,
): number {
  if (mode === "5.4") return 1;
  if (cause === "link") return sysctls.ifdownDemotionFactor ?? FREEBSD10_DEFAULT_FACTOR;
  if (cause === "senderr") return sysctls.senderrDemotionFactor ?? FREEBSD10_DEFAULT_FACTOR;
  return FREEBSD10_DEFAULT_FACTOR;
}

export function vhostFamilies(config: CarpVhostConfig): Family[] {
  const families: Family[] = [];
  if (config.addresses.some((a) => a.family === 4)) families.push(4);
  if (config.addresses.some((a) => a.family === 6)) families.push(6);
  return families;
}

export function fsmSettings(
  config: CarpVhostConfig,
  sysctls: CarpSysctls,
  options: VhostOptions = {},
): FsmSettings {
  const mode = demotionMode(sysctls);
  const initialState = config.state === "master" || config.state === "backup"
    ? config.state
    : undefined;
  return {
    vhid: config.vhid,
    parent: config.parent,
    advbase: config.advbase,
    advskew: config.advskew,
    families: vhostFamilies(config),
    preempt: sysctls.preempt,
    mode,
    senderrDemotion: demotionAmount("senderr", mode, sysctls),
    ifdownDemotion: demotionAmount("link", mode, sysctls),
    bowOut: options.bowOut ?? true,
    delayedGarps: options.delayedGarps ?? 1,
    initialState,
  };
}
