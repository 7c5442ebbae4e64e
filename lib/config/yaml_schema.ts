/**
 * The shape of pfsyncd.yaml, as a zod schema: types, enumerations and kernel
 * ranges in one place, so yaml.ts only has to place each issue at its node.
 * Objects are strict because a misspelt key in an HA configuration is a bug
 * that would otherwise fall back to a default without a word.
 */
import { z } from "zod";
import { parseCidr, parseIPv4 } from "../net/address.ts";
import { protoNumber } from "../state/types.ts";
import {
  CARP_STATES,
  CT_TCP_STATES,
  LIMITS,
  LOG_FORMATS,
  LOG_LEVELS,
  LOG_TARGETS,
  PROVIDERS,
} from "./model.ts";

const intIn = (name: string, range: { min: number; max: number }) =>
  z.int({ error: `${name} must be an integer` }).min(range.min, {
    error: `${name} must be from ${range.min} to ${range.max}`,
  }).max(range.max, { error: `${name} must be from ${range.min} to ${range.max}` });

const oneOf = <T extends string>(name: string, values: readonly T[]) =>
  z.enum(values as [T, ...T[]], { error: `${name} must be one of: ${values.join(", ")}` });

const text = (name: string) =>
  z.string({ error: `${name} must be a string` }).min(1, { error: `${name} must not be empty` });

const bool = (name: string) => z.boolean({ error: `${name} must be true or false` });

const cidr = z.string({ error: "an address must be a string like 192.0.2.1/24" }).refine(
  (s) => parseCidr(s) !== undefined,
  { error: (issue) => `invalid address '${String(issue.input)}' (expected ADDRESS/PREFIX)` },
);

export const carpSchema = z.strictObject({
  interface: text("interface").optional(),
  vhid: intIn("vhid", LIMITS.vhid),
  parent: text("parent"),
  advbase: intIn("advbase", LIMITS.advbase).optional(),
  advskew: intIn("advskew", LIMITS.advskew).optional(),
  pass: z.string({ error: 'pass must be a string (quote it: pass: "1234")' }).optional(),
  state: oneOf("state", CARP_STATES).optional(),
  virtual_mac: bool("virtual_mac").optional(),
  addresses: z.array(cidr, { error: "addresses must be a list of ADDRESS/PREFIX" }),
});

const protocol = z.union([z.string(), z.int()], {
  error: "a protocol must be a name (tcp, udp, icmp, ipv6-icmp) or a number",
}).refine((p) => protoNumber(p) !== undefined, {
  error: (issue) =>
    `unknown protocol '${String(issue.input)}' (a name: tcp, udp, icmp, ipv6-icmp, or 0-255)`,
});

const tcpState = z.string({ error: "a TCP state must be a string" }).refine(
  (s) => CT_TCP_STATES.includes(s.toLowerCase().replace(/-/g, "_")),
  {
    error: (issue) =>
      `unknown TCP state '${String(issue.input)}' (one of: ${CT_TCP_STATES.join(", ")})`,
  },
);

export const conntrackSchema = z.strictObject({
  protocols: z.array(protocol, { error: "conntrack.protocols must be a list" }).optional(),
  include: z.array(cidr, { error: "conntrack.include must be a list of ADDRESS/PREFIX" })
    .optional(),
  exclude: z.array(cidr, { error: "conntrack.exclude must be a list of ADDRESS/PREFIX" })
    .optional(),
  tcp_states: z.array(tcpState, { error: "conntrack.tcp_states must be a list" }).optional(),
  sync_own: bool("conntrack.sync_own").optional(),
  fix_events_sysctl: bool("conntrack.fix_events_sysctl").optional(),
  sweep_interval_ms: intIn("conntrack.sweep_interval_ms", { min: 0, max: 3_600_000 }).refine(
    (ms) => ms === 0 || ms >= 1000,
    { error: "conntrack.sweep_interval_ms must be 0 (off) or at least 1000" },
  ).optional(),
});

const hookKey = z.string().refine(
  (k) => k === "*" || (/^\d{1,3}$/.test(k) && Number(k) >= 1 && Number(k) <= 255),
  { error: (issue) => `hook key '${String(issue.input)}' must be a vhid (1-255) or "*"` },
);

export const yamlSchema = z.strictObject({
  hostid: z.int({ error: "hostid must be an integer" }).min(1, {
    error: "hostid must be from 1 to 4294967295 (0 is reserved)",
  }).max(0xffffffff, { error: "hostid must be from 1 to 4294967295 (0 is reserved)" })
    .optional(),
  provider: oneOf("provider", PROVIDERS).optional(),
  control: text("control").optional(),
  pidfile: text("pidfile").optional(),
  log: z.strictObject({
    target: oneOf("log.target", LOG_TARGETS).optional(),
    level: oneOf("log.level", LOG_LEVELS).optional(),
    format: oneOf("log.format", LOG_FORMATS).optional(),
  }).optional(),
  hooks: z.strictObject({
    scripts: z.record(hookKey, z.union([text("a hook script"), z.array(text("a hook script"))]))
      .optional(),
    timeout_ms: intIn("hooks.timeout_ms", { min: 1, max: 3_600_000 }).optional(),
  }).optional(),
  metrics: z.strictObject({
    listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, {
      error: "metrics.listen must be HOST:PORT, e.g. 127.0.0.1:9734",
    }),
  }).optional(),
  pfsync: z.strictObject({
    enabled: bool("pfsync.enabled").optional(),
    syncif: text("pfsync.syncif").nullable().optional(),
    syncpeer: z.string({ error: "pfsync.syncpeer must be an IPv4 address" }).refine(
      (s) => parseIPv4(s) !== undefined,
      { error: "pfsync.syncpeer must be an IPv4 address" },
    ).nullable().optional(),
    maxupd: intIn("pfsync.maxupd", LIMITS.maxupd).optional(),
    defer: bool("pfsync.defer").optional(),
    bulk_purge: bool("pfsync.bulk_purge").optional(),
    sequence: bool("pfsync.sequence").optional(),
    repair: bool("pfsync.repair").optional(),
    auth: z.strictObject({
      keyfile: text("pfsync.auth.keyfile"),
      required: bool("pfsync.auth.required").optional(),
    }).optional(),
  }).optional(),
  sysctl: z.strictObject({
    allow: bool("sysctl.allow").optional(),
    preempt: bool("sysctl.preempt").optional(),
    log: intIn("sysctl.log", { min: 0, max: 1_000 }).optional(),
    demotion: intIn("sysctl.demotion", LIMITS.demotion).optional(),
    senderr_demotion_factor: intIn("sysctl.senderr_demotion_factor", LIMITS.demotion)
      .optional(),
    ifdown_demotion_factor: intIn("sysctl.ifdown_demotion_factor", LIMITS.demotion).optional(),
  }).optional(),
  interfaces: z.record(
    z.string(),
    z.strictObject({
      addresses: z.array(cidr).optional(),
      up: bool("up").optional(),
    }),
  ).optional(),
  carp: z.array(carpSchema, { error: "carp must be a list of vhosts" }).optional(),
  rcd: z.strictObject({
    enable: bool("rcd.enable").optional(),
    flags: z.string().optional(),
  }).optional(),
  conntrack: conntrackSchema.optional(),
});

export type YamlConfig = z.infer<typeof yamlSchema>;
