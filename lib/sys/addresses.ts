/**
 * Adding and removing an interface address with RTM_NEWADDR / RTM_DELADDR and
 * an ACK, the way CARP installs and withdraws virtual addresses. Both are
 * idempotent: after a crash or a double transition the address may already be
 * there (EEXIST) or already gone (EADDRNOTAVAIL, ENOENT), which is the wanted
 * end state, not an error. IPv6 addresses skip duplicate address detection
 * (IFA_F_NODAD) by default: a virtual address moves between hosts by design,
 * and a tentative address could not be used for the unsolicited NA.
 */
import { type Cidr, formatCidr, parseCidr } from "../net/address.ts";
import {
  encodeAddressRequest,
  IFA_F_NODAD,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_DELADDR,
  RTM_NEWADDR,
} from "../netlink/mod.ts";
import { SysError } from "./errors.ts";
import { errnoName } from "./platform/mod.ts";
import {
  interfaceByIndex,
  nextSeq,
  type RtnlOptions,
  rtnlTransact,
  withRtnl,
} from "./interfaces.ts";

export interface AddressOptions extends RtnlOptions {
  /** IPv6 only: skip duplicate address detection (default true). */
  readonly nodad?: boolean;
  /** IPv4 label (`eth0:carp1`), shown by `ip addr`; at most 15 bytes. */
  readonly label?: string;
  /** Interface name for error messages; looked up by index when absent. */
  readonly ifname?: string;
}

export type AddResult = "added" | "exists";
export type RemoveResult = "removed" | "absent";

const ADD_FLAGS = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const REMOVE_FLAGS = NLM_F_REQUEST | NLM_F_ACK;

/** errno names that mean "already in the wanted state" per operation. */
const ALREADY: Record<"add" | "remove", readonly string[]> = {
  add: ["EEXIST"],
  remove: ["EADDRNOTAVAIL", "ENOENT", "ESRCH"],
};

/** Operator hints for the errors an address change can meet. */
const HINTS: Readonly<Record<string, string>> = {
  EPERM: "run as root or grant CAP_NET_ADMIN",
  EACCES: "run as root or grant CAP_NET_ADMIN",
  ENODEV: "the interface does not exist (any more)",
  EINVAL: "the kernel refused the address or prefix length for this interface",
  EAFNOSUPPORT: "IPv6 is disabled on this interface or host",
  ENOBUFS: "the kernel is out of memory for addresses",
};

function toCidr(cidr: Cidr | string): Cidr {
  if (typeof cidr !== "string") return cidr;
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`not an address/prefix: ${JSON.stringify(cidr)}`);
  return parsed;
}

async function change(
  op: "add" | "remove",
  ifindex: number,
  cidrIn: Cidr | string,
  options: AddressOptions,
): Promise<boolean> {
  const cidr = toCidr(cidrIn);
  const nodad = cidr.family === 6 && (options.nodad ?? true);
  const seq = nextSeq();
  const request = encodeAddressRequest(
    op === "add" ? RTM_NEWADDR : RTM_DELADDR,
    op === "add" ? ADD_FLAGS : REMOVE_FLAGS,
    seq,
    {
      index: ifindex,
      address: cidr.address,
      prefixLength: cidr.prefix,
      flags: op === "add" && nodad ? IFA_F_NODAD : 0,
      label: op === "add" ? options.label : undefined,
    },
  );
  const { errno } = await withRtnl(
    options,
    (port) => rtnlTransact(port, request, seq, options.timeoutMs),
  );
  if (errno === 0) return true;
  const code = errnoName(errno);
  if (ALREADY[op].includes(code)) return false;
  const name = options.ifname ?? await nameOf(ifindex, options);
  const verb = op === "add" ? "RTM_NEWADDR" : "RTM_DELADDR";
  throw new SysError(`${verb} ${formatCidr(cidr)} dev ${name}`, errno, { code, hint: HINTS[code] });
}

/** Best effort: the name for an error message, never a second error. */
async function nameOf(ifindex: number, options: RtnlOptions): Promise<string> {
  try {
    const iface = await interfaceByIndex(ifindex, options);
    return iface ? `${iface.name} (ifindex ${ifindex})` : `ifindex ${ifindex}`;
  } catch {
    return `ifindex ${ifindex}`;
  }
}

/** Adds `cidr` to interface `ifindex`; "exists" when it was already there. */
export async function addAddress(
  ifindex: number,
  cidr: Cidr | string,
  options: AddressOptions = {},
): Promise<AddResult> {
  return (await change("add", ifindex, cidr, options)) ? "added" : "exists";
}

/** Removes `cidr` from interface `ifindex`; "absent" when it was not there. */
export async function removeAddress(
  ifindex: number,
  cidr: Cidr | string,
  options: AddressOptions = {},
): Promise<RemoveResult> {
  return (await change("remove", ifindex, cidr, options)) ? "removed" : "absent";
}
