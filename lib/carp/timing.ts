/**
 * CARP timing and priority (spec §3). Times are milliseconds (fractional),
 * derived from the kernel's microsecond arithmetic so that skew 100 gives
 * exactly 390.625 ms.
 */
import type { CarpSysctls, DemotionMode } from "./types.ts";

/** The advskew a demoted host advertises at least (5.4), and the 10+ cap. */
export const CARP_MAXSKEW = 240;
/** advbase 255 with advskew 255: the bow-out advertisement (§4.5). */
export const CARP_BOWOUT = 255;
/** Multiplier for the master-down interval; ucarp's `-r` default as well. */
export const CARP_DEADRATIO = 3;
export const FREEBSD10_DEFAULT_FACTOR = 240;

export function skewUs(advskew: number): number {
  return Math.floor((advskew * 1_000_000) / 256);
}

/** FreeBSD 10+ arithmetic as soon as any of its demotion sysctls is set. */
export function demotionMode(sysctls: CarpSysctls): DemotionMode {
  const set = sysctls.demotion !== undefined || sysctls.senderrDemotionFactor !== undefined ||
    sysctls.ifdownDemotionFactor !== undefined;
  return set ? "10+" : "5.4";
}

/**
 * The advskew put on the wire and used for comparisons. 5.4: at least 240
 * while the host is demoted. 10+: advskew + demotion, clamped to 0–240 even
 * when demotion is 0.
 */
export function effectiveAdvskew(advskew: number, demotion: number, mode: DemotionMode): number {
  if (mode === "10+") return Math.min(Math.max(advskew + demotion, 0), CARP_MAXSKEW);
  return demotion > 0 ? Math.max(advskew, CARP_MAXSKEW) : advskew;
}

/** MASTER's period: advbase s + skew_us(effective advskew). */
export function advertisementIntervalMs(advbase: number, advskew: number): number {
  return advbase * 1000 + skewUs(advskew) / 1000;
}

/** BACKUP's timeout: 3·advbase s + skew_us(raw configured advskew), skew counted once. */
export function masterDownIntervalMs(
  advbase: number,
  advskew: number,
  deadratio = CARP_DEADRATIO,
): number {
  return deadratio * advbase * 1000 + skewUs(advskew) / 1000;
}

/** A (advbase, advskew) pair; smaller means more frequent, which means better. */
export interface Timing {
  readonly advbase: number;
  readonly advskew: number;
}

/** Lexicographic compare of (advbase, skew_us): negative when `a` is better. */
export function compareTiming(a: Timing, b: Timing): number {
  if (a.advbase !== b.advbase) return a.advbase - b.advbase;
  return skewUs(a.advskew) - skewUs(b.advskew);
}

export function isBowOut(t: Timing): boolean {
  return t.advbase === CARP_BOWOUT && t.advskew === CARP_BOWOUT;
}
