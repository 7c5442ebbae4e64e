/**
 * A sample agent for control tests: a status object, two states and a fake
 * handler table that records what it was asked, so tests can check both the
 * wire and what reached the agent.
 */
import type { ControlHandlers, RequestContext } from "../../lib/control/protocol.ts";
import { ControlError } from "../../lib/control/protocol.ts";
import { startControlServer } from "../../lib/control/server.ts";
import type { StateView, StatusResult, WatchEvent } from "../../lib/control/types.ts";

export function sampleStatus(): StatusResult {
  return {
    version: "0.1.0",
    pid: 4242,
    uptime: 61,
    carp: [
      {
        interface: "eth1",
        vhid: 1,
        state: "MASTER",
        advbase: 1,
        advskew: 0,
        addresses: ["192.0.2.1/24"],
        reason: "master timed out",
      },
      { interface: "eth0", vhid: 2, state: "BACKUP", advbase: 1, advskew: 100 },
    ],
    carpStats: {
      ipackets: 120,
      ipackets6: 0,
      badif: 0,
      badttl: 1,
      hdrops: 0,
      badsum: 2,
      badver: 0,
      badlen: 0,
      badauth: 0,
      badvhid: 0,
      opackets: 61,
      opackets6: 0,
      oerrors: 0,
      preempt: 1,
      ownpackets: 0,
    },
    pfsync: {
      syncif: "eth2",
      syncpeer: null,
      maxupd: 128,
      bulk: { phase: "done", statesReceived: 1234, tries: 1, holdingPreemption: false },
      stats: {
        ipackets: 10,
        ipackets6: 0,
        badif: 0,
        badttl: 3,
        hdrops: 0,
        badver: 0,
        badact: 0,
        badlen: 0,
        badauth: 1,
        stale: 2,
        badval: 0,
        badstate: 0,
        opackets: 7,
        opackets6: 0,
        onomem: 0,
        oerrors: 0,
      },
    },
    demotion: {
      value: 241,
      reasons: [{ reason: "maintenance", delta: 240 }, { reason: "pfsync bulk update", delta: 1 }],
      maintenance: true,
    },
    states: { count: 2 },
  };
}

export function sampleStates(): StateView[] {
  return [
    {
      id: "0000000000000001",
      creatorid: "0badcafe",
      ifname: "",
      proto: "tcp",
      src: "192.0.2.10:1234",
      dst: "198.51.100.7:80",
      direction: "out",
      srcPeer: { state: "ESTABLISHED" },
      dstPeer: { state: "ESTABLISHED" },
      age: 3723,
      expire: 86399,
      packets: [10, 8],
      bytes: [1200, 900],
      origin: "local",
    },
    {
      id: "00000000000000ff",
      creatorid: "12345678",
      ifname: "eth1",
      proto: "udp",
      src: "2001:db8::1[53]",
      dst: "2001:db8::2[5353]",
      direction: "in",
      srcPeer: { state: "MULTIPLE" },
      dstPeer: { state: "SINGLE" },
      age: 5,
      expire: 55,
      packets: [1, 0],
      bytes: [80, 0],
      origin: "192.0.2.2",
    },
  ];
}

/** What the fake agent answers to `states.digest` (with sampleStates().length). */
export const SAMPLE_DIGEST = "0123456789abcdef";

export const WATCH_EVENTS: WatchEvent[] = [
  {
    type: "carp",
    ts: "2026-11-28T12:00:00.000Z",
    interface: "eth1",
    vhid: 1,
    from: "BACKUP",
    to: "MASTER",
    reason: "master timed out",
  },
  {
    type: "state",
    ts: "2026-11-28T12:00:01.000Z",
    action: "insert",
    origin: "192.0.2.2",
    state: sampleStates()[0],
  },
];

export interface FakeAgent {
  handlers: ControlHandlers;
  calls: { method: string; params: unknown }[];
  /** Set when a watch stream has been released by the server. */
  watchEnded: Promise<void>;
}

/** A handler table answering from the samples; `watch` sends WATCH_EVENTS then waits. */
export function fakeAgent(): FakeAgent {
  const calls: { method: string; params: unknown }[] = [];
  let endWatch!: () => void;
  const watchEnded = new Promise<void>((resolve) => endWatch = resolve);
  const record = (method: string, params: unknown) => calls.push({ method, params });
  const demotion = {
    value: 0,
    reasons: [] as { reason: string; delta: number }[],
    maintenance: false,
  };
  const handlers: ControlHandlers = {
    status: (params) => {
      record("status", params);
      return Promise.resolve(sampleStatus());
    },
    states: (params) => {
      record("states", params);
      return Promise.resolve({ states: sampleStates() });
    },
    "states.digest": (params) => {
      record("states.digest", params);
      return Promise.resolve({ count: sampleStates().length, digest: SAMPLE_DIGEST });
    },
    "states.import": (params) => {
      record("states.import", params);
      const errors = params.lines.flatMap((line, index) =>
        line.includes("bad") ? [{ line: index + 1, message: "not a state" }] : []
      );
      return Promise.resolve({ imported: params.lines.length - errors.length, errors });
    },
    "states.delete": (params) => {
      record("states.delete", params);
      if (params.id === "00000000000000aa") throw new ControlError("failed", "no such state");
      return Promise.resolve({ deleted: 1 });
    },
    demote: (params) => {
      record("demote", params);
      demotion.value += params.delta;
      demotion.reasons = [{ reason: "operator", delta: demotion.value }];
      return Promise.resolve({ ...demotion });
    },
    resync: (params) => {
      record("resync", params);
      return Promise.resolve({ requested: true });
    },
    maintenance: (params) => {
      record("maintenance", params);
      demotion.maintenance = params.on;
      demotion.value = params.on ? 240 : 0;
      demotion.reasons = params.on ? [{ reason: "maintenance", delta: 240 }] : [];
      return Promise.resolve({ ...demotion });
    },
    reload: (params) => {
      record("reload", params);
      throw new ControlError(
        "failed",
        "pfsyncd.yaml:3:5: unknown key 'advskw'; kept the running configuration",
      );
    },
    watch: (params, ctx: RequestContext) => {
      record("watch", params);
      return (async function* () {
        try {
          for (const event of WATCH_EVENTS) yield event;
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve();
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
          });
        } finally {
          endWatch();
        }
      })();
    },
  };
  return { handlers, calls, watchEnded };
}

export async function tempSocketPath(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "ctltest-" });
  return {
    path: `${dir}/pfsyncd.sock`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * Leaves a socket file nobody listens on, the way a crashed agent does: a
 * child process listens and is killed with SIGKILL (a clean close would unlink it).
 */
export async function makeStaleSocket(path: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.listen({ transport: "unix", path: ${JSON.stringify(path)} });
      console.log("ready"); setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
}

/** Starts a fake agent on a temp path, runs `body`, always closes and cleans up. */
export async function withServer(
  body: (path: string, agent: ReturnType<typeof fakeAgent>, errors: string[]) => Promise<void>,
): Promise<void> {
  const temp = await tempSocketPath();
  const agent = fakeAgent();
  const errors: string[] = [];
  const server = await startControlServer({
    path: temp.path,
    handlers: agent.handlers,
    onError: (message) => errors.push(message),
  });
  try {
    await body(temp.path, agent, errors);
  } finally {
    await server.close();
    await temp.cleanup();
  }
}

/** Sends raw bytes, returns every line the server wrote before closing. */
export async function rawExchange(path: string, bytes: Uint8Array): Promise<unknown[]> {
  const conn = await Deno.connect({ transport: "unix", path });
  const writer = conn.writable.getWriter();
  // The server may close mid-write once it has seen enough; that is expected.
  const written = writer.write(bytes).catch(() => {});
  const text = await new Response(conn.readable).text().catch(() => "");
  await written;
  try {
    conn.close();
  } catch { /* closed by the server */ }
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}
