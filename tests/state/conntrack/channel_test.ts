import { fromHex } from "../../../lib/bytes/hex.ts";
import { RequestChannel } from "../../../lib/state/conntrack/channel.ts";
import { ctDumpRequest, ctGetRequest } from "../../../lib/netlink/ctnetlink.ts";
import { parseAddress } from "../../../lib/net/address.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { V53_NEW_EVENT } from "./ct_vectors.ts";
import { FakeKernel } from "./fake_kernel.ts";

/** A port that answers every send with canned datagrams built from the request's seq. */
class ScriptedPort {
  readonly fd = 3;
  readonly portId = 77;
  readonly sent: Uint8Array[] = [];
  readonly queue: Uint8Array[] = [];
  constructor(readonly answer: (seq: number) => Uint8Array[]) {}
  send(bytes: Uint8Array): void {
    this.sent.push(bytes);
    this.queue.push(
      ...this.answer(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)),
    );
  }
  receive(): Uint8Array | undefined {
    return this.queue.shift();
  }
  close(): void {}
}

function le32(n: number): string {
  return Array.from(
    new Uint8Array(new Uint32Array([n >>> 0]).buffer),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** NLMSG_ERROR with `error` (0 = ACK) for `seq`, echoing a 16-byte header. */
function errorMsg(seq: number, error: number): Uint8Array {
  return fromHex(
    `24000000 02000001 ${le32(seq)} 4d000000 ${le32(-error)} 14000000 01010103 ${
      le32(seq)
    } 00000000`,
  );
}

function withSeq(message: Uint8Array, seq: number): Uint8Array {
  const copy = message.slice();
  new DataView(copy.buffer).setUint32(8, seq, true);
  return copy;
}

Deno.test("RequestChannel.request() skips late replies and returns the errno of its own", () => {
  const port = new ScriptedPort((seq) => [errorMsg(seq - 1, 0), errorMsg(seq, 17)]);
  const channel = new RequestChannel(port);
  const seq = channel.nextSeq();
  assertEquals(channel.request(ctDumpRequest(seq), seq), 17);
});

Deno.test("RequestChannel.request() counts a malformed datagram and keeps reading", () => {
  const port = new ScriptedPort((seq) => [fromHex("ff000000 0200"), errorMsg(seq, 0)]);
  const channel = new RequestChannel(port);
  const seq = channel.nextSeq();
  assertEquals(channel.request(ctDumpRequest(seq), seq), 0);
  assertEquals(channel.malformed, 1);
});

Deno.test("RequestChannel.dump() collects entries across datagrams until DONE", () => {
  const done = (seq: number) => fromHex(`14000000 03000200 ${le32(seq)} 4d000000 00000000`);
  const port = new ScriptedPort((seq) => [
    withSeq(V53_NEW_EVENT, seq),
    withSeq(V53_NEW_EVENT, seq - 5), // another request's reply: ignored
    withSeq(V53_NEW_EVENT, seq),
    done(seq),
  ]);
  const channel = new RequestChannel(port);
  const seen: number[] = [];
  assertEquals(channel.dump((msg) => seen.push(msg.entry.id!)), 0);
  assertEquals(seen, [0xdf41e5f3, 0xdf41e5f3]);
});

Deno.test("RequestChannel.request() gives up after its timeout when nothing answers", () => {
  const channel = new RequestChannel(new ScriptedPort(() => []), 20);
  const seq = channel.nextSeq();
  assertThrows(() => channel.request(ctDumpRequest(seq), seq), Error, "no reply within 20 ms");
});

Deno.test("RequestChannel.askAll() sends the GETs in one datagram and waits for every answer", () => {
  const kernel = new FakeKernel();
  const ip = (t: string) => parseAddress(t)!.address;
  const tuple = (port: number) => ({
    src: ip("10.0.0.5"),
    dst: ip("198.51.100.20"),
    proto: 17,
    srcPort: port,
    dstPort: 53,
  });
  const port = kernel.open("requests", 0);
  for (const p of [1, 3]) {
    kernel.traffic({
      orig: tuple(p),
      reply: { ...tuple(p), src: tuple(p).dst, dst: tuple(p).src, srcPort: 53, dstPort: p },
      status: 8,
      timeout: 30,
    });
  }
  const channel = new RequestChannel(port);
  const seqs = [1, 2, 3].map(() => channel.nextSeq());
  const found: number[] = [];
  const answers = channel.askAll(
    [1, 2, 3].map((p, i) => ctGetRequest(tuple(p), seqs[i])),
    seqs,
    (seq, msg) => found.push(seqs.indexOf(seq), msg.entry.orig!.srcPort!),
  );
  assertEquals(seqs.map((s) => answers.get(s)), [0, 2, 0]); // ENOENT for the missing one
  assertEquals(found, [0, 1, 2, 3]); // [index, sport] of each entry returned
  assertEquals([port.datagrams, kernel.gets, port.queue.length], [1, 3, 0]);
});
