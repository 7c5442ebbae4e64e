/**
 * Synchronous ctnetlink request/reply over one netlink socket (spec §1.12:
 * sends to the kernel do not block, and the kernel queues the ACK before
 * sendmsg returns, so a request socket can be driven without the reactor).
 * One channel per purpose — requests and dumps never share a socket with
 * the event stream (rule 1).
 *
 * `NetlinkPort` is the slice of lib/sys's NetlinkSocket the provider uses;
 * tests hand in a fake kernel instead.
 */
import { DecodeError } from "../../bytes/errors.ts";
import type { CtMessage } from "../../netlink/ct_types.ts";
import { ctDumpRequest } from "../../netlink/ctnetlink.ts";
import { decodeCtNlMessageFast } from "../../netlink/ctnetlink_fast.ts";
import {
  classifyNlMessage,
  type NlMessage,
  type NlReply,
  splitNlMessages,
} from "../../netlink/nlmsg.ts";

export interface NetlinkPort {
  readonly fd: number;
  readonly portId: number;
  send(bytes: Uint8Array): void;
  /** One datagram or undefined when none is queued; throws (code "ENOBUFS") after an overrun. */
  receive(): Uint8Array | undefined;
  setReceiveBuffer?(bytes: number): number;
  /** SO_ATTACH_FILTER with a classic BPF program (NetlinkSocket.attachFilter). */
  attachFilter?(program: Uint8Array): void;
  close(): void;
}

/** The errno of an ENOBUFS overrun, whichever error class carried it. */
export function isEnobufs(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "ENOBUFS";
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread briefly; only used when the kernel has not queued a reply yet. */
function pause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export class RequestChannel {
  readonly port: NetlinkPort;
  readonly timeoutMs: number;
  #seq: number;
  /** Replies that could not be decoded (counted, never fatal: DESIGN rule 4). */
  malformed = 0;

  constructor(port: NetlinkPort, timeoutMs = 5000) {
    this.port = port;
    this.timeoutMs = timeoutMs;
    // Start away from 0 so events (seq 0) can never be mistaken for replies.
    this.#seq = 1 + Math.floor(Math.random() * 0x3fffffff);
  }

  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    return this.#seq;
  }

  /** The next datagram; the timeout counts from the last one, so long dumps are fine. */
  #next(): Uint8Array {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const datagram = this.port.receive();
      if (datagram) return datagram;
      if (Date.now() > deadline) {
        throw new Error(
          `ctnetlink: no reply within ${this.timeoutMs} ms (port ${this.port.portId})`,
        );
      }
      pause(1);
    }
  }

  /** Split a datagram; a malformed one is counted and skipped. */
  #messages(datagram: Uint8Array): NlMessage[] {
    try {
      return splitNlMessages(datagram);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.malformed++;
      return [];
    }
  }

  /** Classify a message; reserved control types count as malformed. */
  #classify(message: NlMessage): NlReply | undefined {
    try {
      return classifyNlMessage(message);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.malformed++;
      return undefined;
    }
  }

  /**
   * Sends one request built for `seq` and waits for its ACK or error.
   * Returns 0 or a positive errno; `onData` receives entries of a GET reply.
   */
  request(bytes: Uint8Array, seq: number, onData?: (msg: CtMessage) => void): number {
    this.port.send(bytes);
    for (;;) {
      const datagram = this.#next();
      for (const message of this.#messages(datagram)) {
        if (message.header.seq !== seq) continue; // a late reply to an abandoned request
        const reply = this.#classify(message);
        if (!reply) continue;
        if (reply.kind === "ack") return 0;
        if (reply.kind === "error") return reply.errno;
        if (reply.kind === "data" && onData) {
          try {
            onData(decodeCtNlMessageFast(message, datagram));
          } catch (error) {
            if (!(error instanceof DecodeError)) throw error;
            this.malformed++;
          }
        }
      }
    }
  }

  /**
   * Sends several requests in one datagram — `parts`, each built for its own
   * sequence number in `seqs`, only the last one asking for an ACK — and
   * collects the errors. The kernel handles the messages of a datagram in
   * order and answers a request without NLM_F_ACK only when it fails, so
   * once the last one's reply is in, every earlier error is too. Returns the
   * errno per sequence number that failed (absent = success).
   */
  batch(parts: readonly Uint8Array[], seqs: readonly number[]): Map<number, number> {
    return this.sendBatch(oneDatagram(parts), seqs);
  }

  /**
   * `batch` for requests already laid out in one datagram (each message
   * 4-byte aligned, only the last asking for an ACK), e.g. written in place
   * by the apply path.
   */
  sendBatch(datagram: Uint8Array, seqs: readonly number[]): Map<number, number> {
    const wanted = new Set(seqs);
    const last = seqs[seqs.length - 1];
    const errors = new Map<number, number>();
    this.port.send(datagram);
    for (;;) {
      for (const message of this.#messages(this.#next())) {
        const seq = message.header.seq;
        if (!wanted.has(seq)) continue; // a late reply to an abandoned request
        const reply = this.#classify(message);
        if (!reply) continue;
        if (reply.kind === "error") errors.set(seq, reply.errno);
        if ((reply.kind === "ack" || reply.kind === "error") && seq === last) return errors;
      }
    }
  }

  /**
   * Several requests that each ask for an ACK (e.g. GETs by tuple), laid out
   * in one datagram; waits until every one has its ACK or error. Data
   * replies (a GET's entry) go to `onData`. Returns the errno per sequence
   * number (0 = done).
   */
  askAll(
    parts: readonly Uint8Array[],
    seqs: readonly number[],
    onData?: (seq: number, msg: CtMessage) => void,
  ): Map<number, number> {
    const datagram = oneDatagram(parts);
    const waiting = new Set(seqs);
    const answers = new Map<number, number>();
    this.port.send(datagram);
    while (waiting.size > 0) {
      const reply = this.#next();
      for (const message of this.#messages(reply)) {
        const seq = message.header.seq;
        if (!waiting.has(seq)) continue; // a late reply to an abandoned request
        const kind = this.#classify(message);
        if (!kind) continue;
        if (kind.kind === "data" && onData) {
          try {
            onData(seq, decodeCtNlMessageFast(message, reply));
          } catch (error) {
            if (!(error instanceof DecodeError)) throw error;
            this.malformed++;
          }
        } else if (kind.kind === "ack" || kind.kind === "error") {
          answers.set(seq, kind.kind === "ack" ? 0 : kind.errno);
          waiting.delete(seq);
        }
      }
    }
    return answers;
  }

  /**
   * Dumps the table (family 0 = all) and hands every entry to `onEntry`.
   * Returns 0 or the errno of NLMSG_DONE / NLMSG_ERROR.
   */
  dump(onEntry: (msg: CtMessage) => void, family = 0): number {
    return this.dumpPart(this.beginDump(family), onEntry, Infinity)!;
  }

  /** Sends a dump request; read the reply with `dumpPart`. Returns its sequence number. */
  beginDump(family = 0): number {
    const seq = this.nextSeq();
    this.port.send(ctDumpRequest(seq, family));
    return seq;
  }

  /**
   * Reads at most `datagrams` datagrams of the dump `seq` (the kernel builds
   * each part as the previous one is read, so a dump can be taken in slices
   * between other work). Returns undefined while parts remain, then 0 or the
   * errno of NLMSG_DONE / NLMSG_ERROR.
   */
  dumpPart(
    seq: number,
    onEntry: (msg: CtMessage) => void,
    datagrams: number,
  ): number | undefined {
    for (let read = 0; read < datagrams; read++) {
      const datagram = this.#next();
      const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
      for (const message of this.#messages(datagram)) {
        if (message.header.seq !== seq) continue;
        const reply = this.#classify(message);
        if (!reply) continue;
        if (reply.kind === "done" || reply.kind === "error") return reply.errno;
        if (reply.kind !== "data") continue;
        try {
          onEntry(decodeCtNlMessageFast(message, datagram, view));
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          this.malformed++;
        }
      }
    }
    return undefined;
  }
}

/** Netlink messages laid end to end, each padded to 4 bytes, as one datagram. */
function oneDatagram(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += (part.length + 3) & ~3;
  const datagram = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    datagram.set(part, at);
    at += (part.length + 3) & ~3;
  }
  return datagram;
}
