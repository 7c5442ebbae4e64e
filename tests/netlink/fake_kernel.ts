/**
 * A stand-in for the kernel end of a NETLINK_ROUTE socket, for unit tests of
 * lib/sys/{interfaces,addresses,links}.ts without root. Requests are answered
 * by a handler per message type with recorded kernel datagrams, re-stamped
 * with the request's seq the way the kernel echoes it.
 */
import { fromHex } from "../../lib/bytes/mod.ts";
import {
  decodeNlMsgHeader,
  encodeNlMsg,
  NLM_F_CAPPED,
  NLMSG_ERROR,
  type NlMsgHeader,
  splitNlMessages,
} from "../../lib/netlink/mod.ts";
import type { NetlinkPort } from "../../lib/sys/interfaces.ts";

export type Handler = (request: Uint8Array, header: NlMsgHeader) => Uint8Array[];

/** Copies `datagram` with every message's nlmsg_seq set to `seq`. */
export function withSeq(datagram: Uint8Array | string, seq: number): Uint8Array {
  const out = typeof datagram === "string" ? fromHex(datagram) : datagram.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const m of splitNlMessages(out)) view.setUint32(m.offset + 8, seq, true);
  return out;
}

/** NLMSG_ERROR answering `request` with `-errno` (0 = ACK), as the kernel shapes it. */
export function errorReply(request: Uint8Array, errno: number): Uint8Array {
  const header = decodeNlMsgHeader(request);
  const status = new Uint8Array(4);
  new DataView(status.buffer).setInt32(0, -errno, true);
  const echoed = errno === 0 ? request.subarray(0, 16) : request;
  return encodeNlMsg(
    { type: NLMSG_ERROR, flags: errno === 0 ? NLM_F_CAPPED : 0, seq: header.seq, pid: 4242 },
    [status, echoed],
  );
}

export class FakeKernel implements NetlinkPort {
  readonly fd = -1;
  readonly requests: Uint8Array[] = [];
  readonly #queue: Uint8Array[] = [];
  readonly #handlers: Map<number, Handler>;
  closed = false;

  constructor(handlers: Record<number, Handler>) {
    this.#handlers = new Map(Object.entries(handlers).map(([k, v]) => [Number(k), v]));
  }

  send(bytes: Uint8Array): void {
    if (this.closed) throw new Error("send on a closed fake socket");
    this.requests.push(bytes.slice());
    const header = decodeNlMsgHeader(bytes);
    const handler = this.#handlers.get(header.type);
    if (!handler) throw new Error(`fake kernel: no handler for type ${header.type}`);
    this.#queue.push(...handler(bytes, header));
  }

  receive(): Uint8Array | undefined {
    return this.#queue.shift();
  }

  /** Queues an unsolicited datagram (an event). */
  push(datagram: Uint8Array): void {
    this.#queue.push(datagram);
  }

  close(): void {
    this.closed = true;
  }
}
