import { assert, assertEquals } from "../helpers/assert.ts";
import { DecodeError, fromHex } from "../../lib/bytes/mod.ts";
import {
  decodeLinkMessage,
  encodeLinkMessage,
  RTM_DELLINK,
  splitNlMessages,
} from "../../lib/netlink/mod.ts";
import { SysError } from "../../lib/sys/errors.ts";
import { interfaceFromLink } from "../../lib/sys/interfaces.ts";
import { type LinkEvent, watchLinks } from "../../lib/sys/links.ts";
import { Reactor } from "../../lib/sys/reactor.ts";
import { FakeKernel } from "../netlink/fake_kernel.ts";
import * as V from "../netlink/rtnetlink_vectors.ts";
import { closeQuietly, drain, openPipe, writeByte } from "./pipes.ts";
import { labTest, waitFor } from "../lab/lab.ts";

const TOOL = new URL("../lab/fixtures/rtnl_tool.ts", import.meta.url);
const D1_DOWN = fromHex(V.NEWLINK_EVENT_D1_DOWN);
const D1_LINK = decodeLinkMessage(splitNlMessages(D1_DOWN)[0].payload);

/** The d1 event re-encoded with other flags or as RTM_DELLINK. */
function d1Event(flags: number, type = 16): Uint8Array {
  return encodeLinkMessage({ type, flags: 0, seq: 0 }, { ...D1_LINK, flags });
}

/** A reactor stand-in: the test decides when the socket "is readable". */
class ManualReactor {
  callback: (() => void) | undefined;
  removed: number[] = [];
  add(_source: unknown, onReadable: () => void): void {
    this.callback = onReadable;
  }
  remove(fd: number): boolean {
    this.removed.push(fd);
    return true;
  }
}

class OverrunKernel extends FakeKernel {
  overrunOnce = false;
  override receive(): Uint8Array | undefined {
    if (this.overrunOnce) {
      this.overrunOnce = false;
      throw new SysError("recvfrom(AF_NETLINK 0)", 105, { code: "ENOBUFS", description: "" });
    }
    return super.receive();
  }
}

const pick = (
  e: LinkEvent,
) => [e.ifindex, e.name, e.up, e.running, e.lowerUp, e.operState, e.removed];

Deno.test("watchLinks() reports state changes once, removals, and counts malformed messages", async () => {
  const kernel = new OverrunKernel({});
  const reactor = new ManualReactor();
  const events: LinkEvent[] = [];
  const errors: unknown[] = [];
  const up = 0x1 | 0x40 | 0x10000 | 0x1002; // UP|RUNNING|LOWER_UP|BROADCAST|MULTICAST
  const watcher = watchLinks((e) => events.push(e), {
    reactor,
    open: () => kernel,
    onError: (e) => errors.push(e),
    list: () =>
      Promise.resolve([
        interfaceFromLink({ ...D1_LINK, flags: up, attrs: { ...D1_LINK.attrs, operstate: 6 } }),
      ]),
  });
  kernel.push(D1_DOWN);
  kernel.push(D1_DOWN); // same state again: not repeated
  kernel.push(fromHex("10000000 10000000")); // truncated datagram
  kernel.push(d1Event(0x1003)); // admin up, no carrier yet
  reactor.callback!();
  assertEquals(events.map(pick), [
    [2, "d1", false, false, false, "down", false],
    [2, "d1", true, false, false, "down", false],
  ]);
  assertEquals(watcher.stats.malformed, 1);
  assert(errors[0] instanceof DecodeError);

  kernel.overrunOnce = true; // events were lost: a dump brings the state back
  reactor.callback!();
  await waitFor(() => events.length === 3, { message: "resync event" });
  assertEquals(pick(events[2]), [2, "d1", true, true, true, "up", false]);
  assertEquals(watcher.stats.overruns, 1);

  kernel.push(d1Event(0, RTM_DELLINK));
  reactor.callback!();
  assertEquals(pick(events[3]), [2, "d1", false, false, false, "down", true]);

  await watcher.close();
  assertEquals([reactor.removed, kernel.closed], [[-1], true]);
});

Deno.test("watchLinks() with everyMessage passes on repeated RTM_NEWLINK", () => {
  const kernel = new FakeKernel({});
  const reactor = new ManualReactor();
  const events: LinkEvent[] = [];
  const watcher = watchLinks((e) => events.push(e), {
    reactor,
    open: () => kernel,
    everyMessage: true,
  });
  kernel.push(D1_DOWN);
  kernel.push(D1_DOWN);
  reactor.callback!();
  assertEquals(events.length, 2);
  void watcher.close();
});

Deno.test("watchLinks() on its own reactor delivers as soon as the fd is readable", async () => {
  const pipe = openPipe();
  const kernel = new FakeKernel({});
  const port = {
    fd: pipe.read,
    send: (b: Uint8Array) => kernel.send(b),
    receive: () => {
      drain(pipe.read);
      return kernel.receive();
    },
    close: () => kernel.close(),
  };
  const reactor = new Reactor();
  const running = reactor.run();
  const events: Array<[LinkEvent, number]> = [];
  const watcher = watchLinks((e) => events.push([e, performance.now()]), {
    reactor,
    open: () => port,
  });
  try {
    kernel.push(D1_DOWN);
    const sent = performance.now();
    writeByte(pipe.write);
    await waitFor(() => events.length === 1, { timeoutMs: 1_000, intervalMs: 1 });
    assertEquals(events[0][0].name, "d1");
    assert(events[0][1] - sent < 50, `delivered after ${events[0][1] - sent} ms`);
  } finally {
    await watcher.close();
    await reactor.close();
    await running;
    drain(pipe.read);
    closeQuietly(pipe.write);
    closeQuietly(pipe.read);
  }
});

interface Reported extends LinkEvent {
  readonly ms: number;
}

labTest(
  "watchLinks() reports a link set down within 100 ms, and the peer's carrier loss",
  async (lab) => {
    const fw = await lab.namespace("fw");
    const peer = await lab.namespace("peer");
    await lab.link(fw, "lan0", peer, "lan0");
    await lab.link(fw, "lan1", peer, "lan1");
    const watcher = fw.spawnDeno(TOOL, ["watch", "lan0"]);
    await watcher.waitForOutput(/"ready":true/, 20_000);
    const lan0Down = await waitFor(
      () => watcher.jsonLines<Reported>().find((e) => e.name === "lan0" && !e.up),
      { timeoutMs: 2_000, message: "lan0 down event" },
    );
    assert(lan0Down.ms >= 0 && lan0Down.ms < 100, `reported after ${lan0Down.ms.toFixed(1)} ms`);
    assertEquals([lan0Down.running, lan0Down.lowerUp, lan0Down.operState], [false, false, "down"]);

    // Carrier changes reach netlink through the kernel's linkwatch work, which
    // batches them up to once a second (admin down above is sent at once).
    await peer.down("lan1"); // our lan1 stays admin-up but loses carrier
    const carrierLost = await waitFor(
      () => watcher.jsonLines<Reported>().find((e) => e.name === "lan1" && e.up && !e.lowerUp),
      { timeoutMs: 3_000, message: "lan1 carrier loss event" },
    );
    assertEquals(carrierLost.running, false);
    await watcher.stop();
  },
);
