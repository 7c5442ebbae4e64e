/**
 * The configuration CARP consumes, declared here (structurally compatible with
 * lib/config's model) so this folder does not depend on the config parser.
 */
import type { Cidr } from "../net/address.ts";

export type CarpStateName = "INIT" | "BACKUP" | "MASTER";

/** One vhid as configured: `interface` is carpN (5.x form) or the parent (10+ form). */
export interface CarpVhostConfig {
  readonly interface: string;
  readonly vhid: number;
  readonly parent: string;
  readonly advbase: number;
  readonly advskew: number;
  readonly pass: string;
  readonly addresses: readonly Cidr[];
  readonly state?: "backup" | "master" | "init";
  /** Hold the addresses on a macvlan with MAC 00:00:5e:00:01:VHID while MASTER (default off). */
  readonly virtualMac?: boolean;
}

/** `net.inet.carp.*`; the three optional ones switch demotion to FreeBSD 10+ arithmetic. */
export interface CarpSysctls {
  readonly allow: boolean;
  readonly preempt: boolean;
  readonly log: number;
  readonly demotion?: number;
  readonly senderrDemotionFactor?: number;
  readonly ifdownDemotionFactor?: number;
}

/** Which HMAC address order to use (spec §2.3). */
export type HmacOrder = "configured" | "sorted";

/** "5.4": one suppress_preempt count, advskew ≥ 240 while > 0. "10+": additive demotion. */
export type DemotionMode = "5.4" | "10+";

export const DEFAULT_SYSCTLS: CarpSysctls = { allow: true, preempt: false, log: 1 };
