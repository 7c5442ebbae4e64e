/**
 * `net.netfilter.nf_conntrack_events` decides whether the kernel builds
 * events at all (spec rule 14): 0 = never, 1 = always, 2 = "auto" (the
 * default on current kernels) = only for entries created while a listener
 * existed — an entry created before the agent started never reports anything
 * later, not even its DESTROY, so the peer keeps it until it times out there.
 */
export const EVENTS_SYSCTL = "net.netfilter.nf_conntrack_events";

export interface SysctlAccess {
  read(name: string): string | undefined;
  write?(name: string, value: string): void;
}

/** /proc/sys access; undefined when the file is missing or unreadable. */
export const procSysctl: SysctlAccess = {
  read(name) {
    try {
      return Deno.readTextFileSync(`/proc/sys/${name.replaceAll(".", "/")}`).trim();
    } catch {
      return undefined;
    }
  },
  write(name, value) {
    Deno.writeTextFileSync(`/proc/sys/${name.replaceAll(".", "/")}`, `${value}\n`);
  },
};

export interface EventsCheck {
  readonly value: string | undefined;
  /** Set when events could be hidden; says what happens and what to do. */
  readonly warning?: string;
  /** True when the check changed the value to 1. */
  readonly fixed: boolean;
}

/**
 * Reads the setting and explains a bad value; with `fix` it writes 1 first
 * (needs root in the firewall's network namespace — the setting is per netns).
 */
export function checkEventsSysctl(access: SysctlAccess, fix = false): EventsCheck {
  let value = access.read(EVENTS_SYSCTL);
  let fixed = false;
  if (fix && value !== undefined && value !== "1" && access.write) {
    try {
      access.write(EVENTS_SYSCTL, "1");
      value = access.read(EVENTS_SYSCTL);
      fixed = value === "1";
    } catch {
      // Fall through to the warning, which tells the operator what to set.
    }
  }
  if (value === "1") return { value, fixed };
  if (value === undefined) {
    return {
      value,
      fixed,
      warning: `${EVENTS_SYSCTL} is not readable (nf_conntrack not loaded yet?): ` +
        `cannot confirm that conntrack events are enabled; set it to 1`,
    };
  }
  if (value === "0") {
    return {
      value,
      fixed,
      warning: `${EVENTS_SYSCTL} = 0: the kernel sends no conntrack events, so no local ` +
        `state change will be synced; set it to 1 (sysctl -w ${EVENTS_SYSCTL}=1)`,
    };
  }
  return {
    value,
    fixed,
    warning: `${EVENTS_SYSCTL} = ${value}${value === "2" ? " (auto)" : ""}: entries created ` +
      `while no listener existed never report later events, not even DESTROY, so peers keep ` +
      `them until they time out; set it to 1 on both firewalls (sysctl -w ${EVENTS_SYSCTL}=1)`,
  };
}
