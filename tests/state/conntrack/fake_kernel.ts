/**
 * An in-memory stand-in for the kernel's ctnetlink side, close enough to
 * spec §2.8 to drive the provider without root: create/update/delete/get/dump
 * with the documented errnos, NAT rewriting of the reply tuple on create,
 * events with the requester's port id, and a bounded event queue that
 * reports ENOBUFS once after dropping, like a netlink socket.
 */
import {
  CT_ERRNO,
  CT_MSG_DELETE,
  CT_MSG_GET,
  CT_MSG_NEW,
  IPS,
} from "../../../lib/netlink/ct_constants.ts";
import type { CtEntry, CtMessage, CtTuple } from "../../../lib/netlink/ct_types.ts";
import { ctTupleKey, decodeCtNlMessage, encodeCtMessage } from "../../../lib/netlink/ctnetlink.ts";
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_MULTI,
  splitNlMessages,
} from "../../../lib/netlink/nlmsg.ts";
import type { NetlinkPort } from "../../../lib/state/conntrack/channel.ts";

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;

export class FakePort implements NetlinkPort {
  readonly fd: number;
  readonly portId: number;
  readonly groups: number;
  readonly queue: Uint8Array[] = [];
  capacity = Infinity;
  overflowed = false;
  closed = false;
  receiveBuffer = 0;
  /** Datagrams sent to the kernel (a batch of requests is one). */
  datagrams = 0;
  readonly #kernel: FakeKernel;

  constructor(kernel: FakeKernel, fd: number, portId: number, groups: number) {
    this.#kernel = kernel;
    this.fd = fd;
    this.portId = portId;
    this.groups = groups;
  }

  send(bytes: Uint8Array): void {
    this.datagrams++;
    for (const message of splitNlMessages(bytes)) {
      this.#kernel.handle(
        this,
        bytes.subarray(message.offset, message.offset + message.header.length),
      );
    }
  }

  receive(): Uint8Array | undefined {
    if (this.overflowed) {
      this.overflowed = false;
      throw Object.assign(new Error("recvfrom: ENOBUFS"), { code: "ENOBUFS" });
    }
    return this.queue.shift();
  }

  setReceiveBuffer(bytes: number): number {
    this.receiveBuffer = bytes;
    return bytes * 2;
  }

  close(): void {
    this.closed = true;
  }

  push(datagram: Uint8Array): void {
    if (this.queue.length >= this.capacity) {
      this.overflowed = true;
      return;
    }
    this.queue.push(datagram);
  }
}

function header(
  type: number,
  flags: number,
  seq: number,
  pid: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, seq, true);
  view.setUint32(12, pid, true);
  out.set(payload, 16);
  return out;
}

export function mirror(t: CtTuple): CtTuple {
  return { ...t, src: t.dst, dst: t.src, srcPort: t.dstPort, dstPort: t.srcPort };
}

export class FakeKernel {
  readonly table = new Map<string, CtEntry>();
  readonly ports: FakePort[] = [];
  /** errno to answer the next request of this type with, for failure tests. */
  readonly failNext = new Map<number, number>();
  requests = 0;
  /** GETs by tuple answered (not dumps). */
  gets = 0;
  /** errno to answer every GET by tuple with (a kernel that cannot look entries up). */
  failGets: number | undefined;
  /** Keys the next dump leaves out although they are in the table (a dump is not a snapshot). */
  readonly dumpSkips = new Set<string>();
  /** Runs when a dump request arrives, before its parts are built: changes racing the dump. */
  onDump: (() => void) | undefined;
  /** Runs once a dump's parts are queued, before they are read: they are stale by then. */
  afterDump: (() => void) | undefined;
  #nextId = 0x1000;
  #nextPort = 9000;

  open = (_purpose: string, groups: number, rcvbuf?: number): FakePort => {
    const port = new FakePort(this, 100 + this.ports.length, this.#nextPort++, groups);
    if (rcvbuf) port.receiveBuffer = rcvbuf;
    this.ports.push(port);
    return port;
  };

  #emit(type: number, flags: number, pid: number, entry: CtEntry): void {
    const group = type === CT_MSG_DELETE ? 4 : (flags & NLM_F_CREATE) ? 1 : 2;
    for (const port of this.ports) {
      if ((port.groups & group) === 0 || port.closed) continue;
      port.push(encodeCtMessage({ type, flags, seq: 0, pid, family: 2, entry }));
    }
  }

  #reply(port: FakePort, request: Uint8Array, seq: number, errno: number): void {
    const echoed = errno === 0 ? request.subarray(0, 16) : request;
    const payload = new Uint8Array(4 + echoed.length);
    new DataView(payload.buffer).setInt32(0, -errno, true);
    payload.set(echoed, 4);
    port.push(header(NLMSG_ERROR, errno === 0 ? 0x100 : 0, seq, port.portId, payload));
  }

  handle(port: FakePort, bytes: Uint8Array): void {
    this.requests++;
    const [message] = splitNlMessages(bytes);
    const msg = decodeCtNlMessage(message);
    const forced = this.failNext.get(msg.type);
    if (forced !== undefined) {
      this.failNext.delete(msg.type);
      return this.#reply(port, bytes, msg.seq, forced);
    }
    if (msg.type === CT_MSG_GET && (msg.flags & NLM_F_DUMP) === NLM_F_DUMP) {
      return this.#dump(port, msg);
    }
    if (msg.type === CT_MSG_GET) return this.#get(port, bytes, msg);
    let errno: number = CT_ERRNO.EINVAL;
    if (msg.type === CT_MSG_NEW) errno = this.#new(port, msg);
    else if (msg.type === CT_MSG_DELETE) errno = this.#delete(port, msg);
    // Like netlink_rcv_skb: an error always, an ACK only when asked for.
    if (errno !== 0 || (msg.flags & NLM_F_ACK) !== 0) this.#reply(port, bytes, msg.seq, errno);
  }

  #new(port: FakePort, msg: CtMessage): number {
    const e = msg.entry;
    if (!e.orig) return CT_ERRNO.EINVAL;
    const key = ctTupleKey(e.orig, e.zone ?? 0);
    const existing = this.table.get(key);
    if (existing) {
      if (msg.flags & NLM_F_EXCL) return CT_ERRNO.EEXIST;
      if (e.natSrc || e.natDst || e.master) return CT_ERRNO.EOPNOTSUPP;
      const old = existing.status ?? 0;
      let status = old;
      if (e.status !== undefined) {
        if ((e.status & IPS.CONFIRMED) === 0) return CT_ERRNO.EBUSY;
        if ((old & ~e.status & (IPS.SEEN_REPLY | IPS.ASSURED)) !== 0) return CT_ERRNO.EBUSY;
        status = old | (e.status & (IPS.SEEN_REPLY | IPS.ASSURED));
      }
      const updated = {
        ...existing,
        status,
        timeout: e.timeout ?? existing.timeout,
        mark: e.mark ?? existing.mark,
        tcp: e.tcp ? readTcp(e.tcp) : existing.tcp,
      };
      this.table.set(key, updated);
      this.#emit(CT_MSG_NEW, 0, port.portId, updated);
      return 0;
    }
    if ((msg.flags & NLM_F_CREATE) === 0) return CT_ERRNO.ENOENT;
    if (!e.reply || e.timeout === undefined || e.reply.proto !== e.orig.proto) {
      return CT_ERRNO.EINVAL;
    }
    if (((e.status ?? 0) & IPS.CONFIRMED) === 0) return CT_ERRNO.EBUSY;
    let reply = e.reply;
    let status = (e.status! & (IPS.SEEN_REPLY | IPS.ASSURED)) | IPS.CONFIRMED;
    if (e.natSrc) {
      reply = {
        ...reply,
        dst: e.natSrc.minIp!,
        ...(e.natSrc.minPort !== undefined ? { dstPort: e.natSrc.minPort } : {}),
      };
      status |= IPS.SRC_NAT | IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE;
    }
    if (e.natDst) {
      reply = {
        ...reply,
        src: e.natDst.minIp!,
        ...(e.natDst.minPort !== undefined ? { srcPort: e.natDst.minPort } : {}),
      };
      status |= IPS.DST_NAT | IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE;
    }
    const created: CtEntry = {
      orig: e.orig,
      reply,
      id: this.#nextId++,
      status,
      timeout: e.timeout,
      mark: e.mark ?? 0,
      ...(e.zone ? { zone: e.zone } : {}),
      ...(e.tcp ? { tcp: readTcp(e.tcp) } : {}),
      ...(e.help ? { help: e.help } : {}),
    };
    this.table.set(key, created);
    this.#emit(CT_MSG_NEW, NLM_F_CREATE | NLM_F_EXCL, port.portId, created);
    return 0;
  }

  #delete(port: FakePort, msg: CtMessage): number {
    const e = msg.entry;
    if (!e.orig) {
      for (const key of [...this.table.keys()]) this.#destroy(key, port.portId);
      return 0;
    }
    const key = ctTupleKey(e.orig, e.zone ?? 0);
    if (!this.table.has(key)) return CT_ERRNO.ENOENT;
    this.#destroy(key, port.portId);
    return 0;
  }

  #destroy(key: string, pid: number): void {
    const entry = this.table.get(key)!;
    this.table.delete(key);
    this.#emit(CT_MSG_DELETE, 0, pid, { ...entry, status: (entry.status ?? 0) | IPS.DYING });
  }

  /** GET by (original tuple, zone): the entry, then the ACK asked for; ENOENT when absent. */
  #get(port: FakePort, request: Uint8Array, msg: CtMessage): void {
    this.gets++;
    const entry = msg.entry.orig && this.table.get(ctTupleKey(msg.entry.orig, msg.entry.zone ?? 0));
    const errno = this.failGets ?? (entry ? 0 : CT_ERRNO.ENOENT);
    if (errno === 0 && entry) {
      port.push(
        encodeCtMessage({
          type: CT_MSG_NEW,
          flags: 0,
          seq: msg.seq,
          pid: port.portId,
          family: 2,
          entry,
        }),
      );
    }
    if (errno !== 0 || (msg.flags & NLM_F_ACK) !== 0) this.#reply(port, request, msg.seq, errno);
  }

  #dump(port: FakePort, msg: CtMessage): void {
    const hook = this.onDump;
    this.onDump = undefined;
    hook?.();
    const shown = [...this.table].filter(([key]) => !this.dumpSkips.has(key));
    this.dumpSkips.clear();
    const parts = shown.map(([, entry]) =>
      encodeCtMessage({
        type: CT_MSG_NEW,
        flags: NLM_F_MULTI,
        seq: msg.seq,
        pid: port.portId,
        family: 2,
        entry,
      })
    );
    // Three entries a datagram, so readers must cope with dumps spread over datagrams.
    for (let i = 0; i < parts.length; i += 3) port.push(concat(parts.slice(i, i + 3)));
    const done = new Uint8Array(4);
    port.push(header(NLMSG_DONE, NLM_F_MULTI, msg.seq, port.portId, done));
    const after = this.afterDump;
    this.afterDump = undefined;
    after?.();
  }

  /** Packet path: a new or changed flow (events with pid 0). */
  traffic(entry: CtEntry): void {
    const key = ctTupleKey(entry.orig!, entry.zone ?? 0);
    const known = this.table.has(key);
    const full = { id: this.table.get(key)?.id ?? this.#nextId++, mark: 0, ...entry };
    this.table.set(key, full);
    this.#emit(CT_MSG_NEW, known ? 0 : NLM_F_CREATE | NLM_F_EXCL, 0, full);
  }

  /** Packet path: timeout extended, which emits no event (spec rule 17). */
  refresh(orig: CtTuple, timeout: number, zone = 0): void {
    const key = ctTupleKey(orig, zone);
    this.table.set(key, { ...this.table.get(key)!, timeout });
  }

  /** Timer path: the entry expires (DESTROY with pid 0). */
  expire(orig: CtTuple, zone = 0): void {
    this.#destroy(ctTupleKey(orig, zone), 0);
  }

  get(orig: CtTuple, zone = 0): CtEntry | undefined {
    return this.table.get(ctTupleKey(orig, zone));
  }
}

/** What reading protoinfo back shows: the flags the mask let through, mask 0. */
function readTcp(tcp: NonNullable<CtEntry["tcp"]>): NonNullable<CtEntry["tcp"]> {
  const read = (f?: { flags: number; mask: number }) =>
    f ? { flags: f.flags & (f.mask || 0xff), mask: 0 } : undefined;
  return { ...tcp, flagsOriginal: read(tcp.flagsOriginal), flagsReply: read(tcp.flagsReply) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
