/**
 * Creating and deleting the macvlan child that carries a CARP vhid's virtual
 * MAC (RTM_NEWLINK / RTM_DELLINK with an ACK). Both are idempotent: after a
 * crash the child may already exist (EEXIST: reused, brought up again) or
 * already be gone (ENODEV: the wanted end state).
 */
import {
  encodeDeleteLinkRequest,
  encodeMacvlanRequest,
  MACVLAN_MODE_BRIDGE,
  MACVLAN_MODE_PRIVATE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
} from "../netlink/mod.ts";
import { formatMac } from "../net/address.ts";
import { SysError } from "./errors.ts";
import { errnoName } from "./platform/mod.ts";
import { nextSeq, type RtnlOptions, rtnlTransact, withRtnl } from "./interfaces.ts";

export interface MacvlanOptions extends RtnlOptions {
  /** "private" (default) or "bridge" between macvlan siblings. */
  readonly mode?: "private" | "bridge";
}

export type CreateLinkResult = "created" | "exists";
export type DeleteLinkResult = "deleted" | "absent";

const HINTS: Readonly<Record<string, string>> = {
  EPERM: "run as root or grant CAP_NET_ADMIN",
  EOPNOTSUPP: "the kernel has no macvlan support (modprobe macvlan)",
  ENODEV: "the parent interface does not exist (any more)",
  EADDRNOTAVAIL: "the MAC address was refused",
  EINVAL: "the parent cannot carry a macvlan (not Ethernet?)",
};

/**
 * Creates macvlan `name` on parent `parentIndex` with `mac`, up. When a link
 * of that name already exists it is reused (and brought up): after an
 * unclean exit the previous run's child is still there.
 */
export async function createMacvlan(
  name: string,
  parentIndex: number,
  mac: Uint8Array,
  options: MacvlanOptions = {},
): Promise<CreateLinkResult> {
  const mode = options.mode === "bridge" ? MACVLAN_MODE_BRIDGE : MACVLAN_MODE_PRIVATE;
  const req = { name, parentIndex, mac, mode, up: true };
  const send = (flags: number) => {
    const seq = nextSeq();
    const request = encodeMacvlanRequest(NLM_F_REQUEST | NLM_F_ACK | flags, seq, req);
    return withRtnl(options, (port) => rtnlTransact(port, request, seq, options.timeoutMs));
  };
  let { errno } = await send(NLM_F_CREATE | NLM_F_EXCL);
  if (errno === 0) return "created";
  if (errnoName(errno) === "EEXIST") {
    // Same request without CREATE changes the existing macvlan: MAC, mode, up.
    ({ errno } = await send(0));
    if (errno === 0) return "exists";
  }
  const code = errnoName(errno);
  throw new SysError(
    `RTM_NEWLINK macvlan ${name} link ifindex ${parentIndex} address ${formatMac(mac)}`,
    errno,
    { code, hint: HINTS[code] },
  );
}

/** Deletes link `name`; "absent" when there was none. */
export async function deleteLink(
  name: string,
  options: RtnlOptions = {},
): Promise<DeleteLinkResult> {
  const seq = nextSeq();
  const request = encodeDeleteLinkRequest(NLM_F_REQUEST | NLM_F_ACK, seq, name);
  const { errno } = await withRtnl(
    options,
    (port) => rtnlTransact(port, request, seq, options.timeoutMs),
  );
  if (errno === 0) return "deleted";
  const code = errnoName(errno);
  if (code === "ENODEV") return "absent";
  throw new SysError(`RTM_DELLINK dev ${name}`, errno, { code, hint: HINTS[code] });
}
