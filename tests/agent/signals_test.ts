import {
  installSignalHandlers,
  SIGNAL_ACTIONS,
  type SignalApi,
  type SignalHandlers,
} from "../../lib/agent/signals.ts";
import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";

/** Records listeners so a test can "deliver" a signal to them. */
function fakeApi(): SignalApi & { deliver(signal: Deno.Signal): void; count(): number } {
  const listeners = new Map<Deno.Signal, Set<() => void>>();
  return {
    addSignalListener(signal, handler) {
      if (!listeners.has(signal)) listeners.set(signal, new Set());
      listeners.get(signal)!.add(handler);
    },
    removeSignalListener(signal, handler) {
      listeners.get(signal)?.delete(handler);
    },
    deliver(signal) {
      for (const handler of listeners.get(signal) ?? []) handler();
    },
    count() {
      return [...listeners.values()].reduce((sum, set) => sum + set.size, 0);
    },
  };
}

function recorder(): SignalHandlers & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    reload: () => seen.push("reload"),
    stop: (signal) => seen.push(`stop ${signal}`),
    dumpStatus: () => seen.push("dumpStatus"),
  };
}

Deno.test("installSignalHandlers() maps each signal to its action", () => {
  const table: [Deno.Signal, string][] = [
    ["SIGHUP", "reload"],
    ["SIGTERM", "stop SIGTERM"],
    ["SIGINT", "stop SIGINT"],
    ["SIGUSR1", "dumpStatus"],
  ];
  assertEquals(Object.keys(SIGNAL_ACTIONS).sort(), table.map(([s]) => s).sort());
  for (const [signal, expected] of table) {
    const api = fakeApi();
    const handlers = recorder();
    const dispose = installSignalHandlers(handlers, { api });
    api.deliver(signal);
    assertEquals(handlers.seen, [expected], signal);
    dispose();
  }
});

Deno.test("installSignalHandlers() disposer detaches every listener, once", () => {
  const api = fakeApi();
  const handlers = recorder();
  const dispose = installSignalHandlers(handlers, { api });
  assertEquals(api.count(), 4);
  dispose();
  dispose();
  assertEquals(api.count(), 0);
  api.deliver("SIGHUP");
  assertEquals(handlers.seen, []);
});

Deno.test("installSignalHandlers() reports a throwing handler instead of crashing", () => {
  const api = fakeApi();
  const errors: string[] = [];
  const handlers = {
    ...recorder(),
    reload: () => {
      throw new Error("config locked");
    },
  };
  installSignalHandlers(handlers, { api, onError: (message) => errors.push(message) });
  api.deliver("SIGHUP");
  api.deliver("SIGUSR1");
  assertEquals(errors.length, 1);
  assertStringIncludes(errors[0], "SIGHUP handler (reload) failed: config locked");
  assertEquals(handlers.seen, ["dumpStatus"]);
});

const SIGNALS_MODULE = new URL("../../lib/agent/signals.ts", import.meta.url).href;

Deno.test("installSignalHandlers() receives real signals in a separate process", async () => {
  const code = `import { installSignalHandlers } from ${JSON.stringify(SIGNALS_MODULE)};
// Signal listeners do not keep Deno alive; the agent's sockets do. Stand in for them.
const keepAlive = setInterval(() => {}, 1000);
let dispose = () => {};
const say = (text) => console.log(text);
dispose = installSignalHandlers({
  reload: () => say("reload"),
  dumpStatus: () => say("dumpStatus"),
  stop: (signal) => { say("stop " + signal); dispose(); clearInterval(keepAlive); },
});
say("ready");`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const waitFor = async (word: string) => {
    while (!text.includes(word)) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`child ended before "${word}": ${text}`);
      text += value;
    }
  };
  try {
    await waitFor("ready");
    child.kill("SIGHUP");
    await waitFor("reload");
    child.kill("SIGUSR1");
    await waitFor("dumpStatus");
    child.kill("SIGTERM");
    await waitFor("stop SIGTERM");
    // Stop released everything; the child exits by itself with code 0.
    const status = await child.status;
    assertEquals(status.code, 0);
    assertEquals(text.trim().split("\n"), ["ready", "reload", "dumpStatus", "stop SIGTERM"]);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await lines.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
  }
});
