/**
 * Interfaces and their addresses, read from the kernel with rtnetlink dumps
 * (RTM_GETLINK + RTM_GETADDR) on a short-lived NETLINK_ROUTE socket, plus the
 * request/reply loop that addresses.ts shares. The socket is a port so tests
 * can answer with recorded kernel messages instead of a real kernel.
 */
import {
  addressesEqual,
  type Cidr,
  cidrContains,
  type Family,
  formatAddress,
  formatMac,
  parseAddress,
} from "../net/address.ts";
import {
  AF_INET,
  AF_INET6,
  classifyNlMessage,
  decodeAddrMessage,
  decodeLinkMessage,
  encodeGetAddrDump,
  encodeGetLinkDump,
  IFF_BROADCAST,
  IFF_LOOPBACK,
  IFF_LOWER_UP,
  IFF_MULTICAST,
  IFF_POINTOPOINT,
  IFF_RUNNING,
  IFF_UP,
  type LinkMessage,
  NETLINK_ROUTE,
  NLM_F_DUMP_INTR,
  type NlMessage,
  NLMSG_HDRLEN,
  OPERSTATE_NAMES,
  RTM_NEWADDR,
  RTM_NEWLINK,
  splitNlMessages,
} from "../netlink/mod.ts";
import { SysError } from "./errors.ts";
import { NetlinkSocket } from "./netlink_socket.ts";
import { errnoName } from "./platform/mod.ts";

/** The part of NetlinkSocket the rtnetlink code uses; tests substitute a fake kernel. */
export interface NetlinkPort {
  send(bytes: Uint8Array): void;
  receive(): Uint8Array | undefined;
  close(): void;
}

export interface RtnlOptions {
  /** Opens the request socket; default a NETLINK_ROUTE NetlinkSocket. */
  readonly open?: () => NetlinkPort;
  /** How long to wait for the kernel's answer; default 5 s. */
  readonly timeoutMs?: number;
}

export interface InterfaceAddress extends Cidr {
  /** `192.0.2.1/24` */
  readonly text: string;
  /** Point-to-point peer, when IFA_ADDRESS differs from IFA_LOCAL. */
  readonly peer?: Uint8Array;
  readonly scope: number;
  /** IFA_F_* (full 32 bits when the kernel sent IFA_FLAGS). */
  readonly flags: number;
  readonly label?: string;
}

export interface Interface {
  readonly index: number;
  readonly name: string;
  /** Raw IFF_* flags; the booleans below are the ones the agent cares about. */
  readonly flags: number;
  readonly up: boolean;
  readonly running: boolean;
  readonly lowerUp: boolean;
  readonly loopback: boolean;
  readonly broadcast: boolean;
  readonly multicast: boolean;
  readonly pointToPoint: boolean;
  readonly mtu: number;
  readonly mac?: Uint8Array;
  /** `02:00:5e:00:00:01`, when the link has a 6-byte address. */
  readonly macText?: string;
  /** RFC 2863 name: up, down, lowerlayerdown, unknown … */
  readonly operState: string;
  /** IFLA_INFO_KIND: veth, bridge, vlan … (absent for physical NICs). */
  readonly kind?: string;
  readonly addresses: readonly InterfaceAddress[];
}

const defaultOpen = (): NetlinkPort => NetlinkSocket.open(NETLINK_ROUTE);

let lastSeq = Date.now() >>> 0;

/** A fresh sequence number (replies are matched on it). */
export function nextSeq(): number {
  lastSeq = (lastSeq + 1) >>> 0;
  return lastSeq;
}

export interface RtnlResult {
  /** Family messages (dump entries) answering the request. */
  readonly messages: NlMessage[];
  /** 0 on success, else the kernel's errno (positive). */
  readonly errno: number;
}

/**
 * Sends one request and collects the replies carrying its seq until the ACK,
 * error or NLMSG_DONE. rtnetlink answers inside sendmsg and builds each further
 * dump part inside recvmsg, so replies are normally there at once; the short
 * sleep only covers a kernel that is slower than that.
 */
export async function rtnlTransact(
  port: NetlinkPort,
  request: Uint8Array,
  seq: number,
  timeoutMs = 5_000,
): Promise<RtnlResult> {
  port.send(request);
  const messages: NlMessage[] = [];
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const datagram = port.receive();
    if (datagram === undefined) {
      if (performance.now() > deadline) {
        throw new Error(`rtnetlink: no reply to request seq ${seq} within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    for (const message of splitNlMessages(datagram)) {
      if (message.header.seq !== seq) continue; // a late answer to an earlier request
      const reply = classifyNlMessage(message);
      switch (reply.kind) {
        case "data":
          messages.push(message);
          break;
        case "ack":
          return { messages, errno: 0 };
        case "error":
        case "done":
          return { messages, errno: reply.errno };
      }
    }
  }
}

/** Opens a port, runs `fn`, always closes the port. */
export async function withRtnl<T>(
  options: RtnlOptions,
  fn: (port: NetlinkPort) => Promise<T>,
): Promise<T> {
  const port = (options.open ?? defaultOpen)();
  try {
    return await fn(port);
  } finally {
    port.close();
  }
}

/** A dump the kernel flagged as inconsistent (changed while we read it) is re-run. */
const DUMP_ATTEMPTS = 3;

async function dump(
  port: NetlinkPort,
  request: (seq: number) => Uint8Array,
  what: string,
  timeoutMs?: number,
): Promise<NlMessage[]> {
  for (let attempt = 1;; attempt++) {
    const seq = nextSeq();
    const result = await rtnlTransact(port, request(seq), seq, timeoutMs);
    if (result.errno !== 0) {
      throw new SysError(`rtnetlink ${what} dump`, result.errno, { code: errnoName(result.errno) });
    }
    const interrupted = result.messages.some((m) => (m.header.flags & NLM_F_DUMP_INTR) !== 0);
    if (!interrupted || attempt === DUMP_ATTEMPTS) return result.messages;
  }
}

/** Every interface with its addresses, in ifindex order. */
export async function listInterfaces(options: RtnlOptions = {}): Promise<Interface[]> {
  return await withRtnl(options, async (port) => {
    const links = await dump(port, encodeGetLinkDump, "RTM_GETLINK", options.timeoutMs);
    const addrs = await dump(
      port,
      (seq) => encodeGetAddrDump(seq),
      "RTM_GETADDR",
      options.timeoutMs,
    );
    return buildInterfaces(links, addrs);
  });
}

/** Turns dump messages into Interface records (pure; exported for tests). */
export function buildInterfaces(
  links: readonly NlMessage[],
  addrs: readonly NlMessage[],
): Interface[] {
  const byIndex = new Map<number, InterfaceAddress[]>();
  for (const m of addrs) {
    if (m.header.type !== RTM_NEWADDR) continue;
    const a = decodeAddrMessage(m.payload, undefined, m.offset + NLMSG_HDRLEN);
    const address = a.attrs.local ?? a.attrs.address;
    if (!address || (a.family !== AF_INET && a.family !== AF_INET6)) continue;
    const family: Family = a.family === AF_INET ? 4 : 6;
    const peer = a.attrs.local && a.attrs.address && !addressesEqual(a.attrs.address, a.attrs.local)
      ? a.attrs.address
      : undefined;
    const list = byIndex.get(a.index) ?? [];
    list.push({
      family,
      address,
      prefix: a.prefixLength,
      text: `${formatAddress(address)}/${a.prefixLength}`,
      peer,
      scope: a.scope,
      flags: a.attrs.flags ?? a.flags,
      label: a.attrs.label,
    });
    byIndex.set(a.index, list);
  }
  return links
    .filter((m) => m.header.type === RTM_NEWLINK)
    .map((m) =>
      interfaceFromLink(decodeLinkMessage(m.payload, undefined, m.offset + NLMSG_HDRLEN), byIndex)
    )
    .sort((x, y) => x.index - y.index);
}

/** Flags and names of one link message; `addresses` looked up by index. */
export function interfaceFromLink(
  link: LinkMessage,
  addresses: ReadonlyMap<number, InterfaceAddress[]> = new Map(),
): Interface {
  const mac = link.attrs.address;
  return {
    index: link.index,
    name: link.attrs.ifname ?? `if${link.index}`,
    flags: link.flags,
    up: (link.flags & IFF_UP) !== 0,
    running: (link.flags & IFF_RUNNING) !== 0,
    lowerUp: (link.flags & IFF_LOWER_UP) !== 0,
    loopback: (link.flags & IFF_LOOPBACK) !== 0,
    broadcast: (link.flags & IFF_BROADCAST) !== 0,
    multicast: (link.flags & IFF_MULTICAST) !== 0,
    pointToPoint: (link.flags & IFF_POINTOPOINT) !== 0,
    mtu: link.attrs.mtu ?? 0,
    mac,
    macText: mac?.length === 6 ? formatMac(mac) : undefined,
    operState: OPERSTATE_NAMES[link.attrs.operstate ?? 0] ?? `state${link.attrs.operstate}`,
    kind: link.attrs.linkinfo?.kind,
    addresses: addresses.get(link.index) ?? [],
  };
}

export async function interfaceByName(
  name: string,
  options: RtnlOptions = {},
): Promise<Interface | undefined> {
  return (await listInterfaces(options)).find((i) => i.name === name);
}

export async function interfaceByIndex(
  index: number,
  options: RtnlOptions = {},
): Promise<Interface | undefined> {
  return (await listInterfaces(options)).find((i) => i.index === index);
}

/**
 * The interface whose subnet contains `address` (longest prefix wins; a
 * host route /32 or /128 only matches itself). `interfaces` skips the kernel.
 */
export async function findInterfaceForAddress(
  address: string | Uint8Array,
  interfaces?: readonly Interface[],
  options: RtnlOptions = {},
): Promise<Interface | undefined> {
  return pickInterfaceForAddress(interfaces ?? await listInterfaces(options), address);
}

/** The pure part of findInterfaceForAddress. */
export function pickInterfaceForAddress(
  interfaces: readonly Interface[],
  address: string | Uint8Array,
): Interface | undefined {
  const bytes = typeof address === "string" ? parseAddress(address)?.address : address;
  if (!bytes) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  let best: { iface: Interface; prefix: number } | undefined;
  for (const iface of interfaces) {
    for (const a of iface.addresses) {
      if (cidrContains(a, bytes) && (!best || a.prefix > best.prefix)) {
        best = { iface, prefix: a.prefix };
      }
    }
  }
  return best?.iface;
}
