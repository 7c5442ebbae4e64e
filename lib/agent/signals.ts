/**
 * The daemon's signal contract: SIGHUP reloads, SIGTERM/SIGINT stop
 * gracefully, SIGUSR1 dumps status to the log. The handlers are the agent's;
 * this only maps signals to them and hands back one disposer, so the agent can
 * detach cleanly (and tests can drive it through a fake signal API).
 */

export type SignalAction = "reload" | "stop" | "dumpStatus";

export interface SignalHandlers {
  reload(): void;
  stop(signal: "SIGTERM" | "SIGINT"): void;
  dumpStatus(): void;
}

/** Which action each signal triggers; the order is the order they are attached. */
export const SIGNAL_ACTIONS: Readonly<
  Record<"SIGHUP" | "SIGTERM" | "SIGINT" | "SIGUSR1", SignalAction>
> = {
  SIGHUP: "reload",
  SIGTERM: "stop",
  SIGINT: "stop",
  SIGUSR1: "dumpStatus",
};

/** The part of Deno's API this uses; tests pass a fake. */
export interface SignalApi {
  addSignalListener(signal: Deno.Signal, handler: () => void): void;
  removeSignalListener(signal: Deno.Signal, handler: () => void): void;
}

/**
 * Attaches the handlers and returns a disposer that detaches them. A handler
 * that throws is reported through `onError` and does not take the process down
 * (an exception in a signal listener would otherwise be uncaught).
 */
export function installSignalHandlers(
  handlers: SignalHandlers,
  options: { api?: SignalApi; onError?: (message: string) => void } = {},
): () => void {
  const api: SignalApi = options.api ?? Deno;
  const onError = options.onError ?? (() => {});
  const attached: [Deno.Signal, () => void][] = [];
  for (const [signal, action] of Object.entries(SIGNAL_ACTIONS)) {
    const name = signal as keyof typeof SIGNAL_ACTIONS;
    const listener = () => {
      try {
        if (action === "stop") handlers.stop(name as "SIGTERM" | "SIGINT");
        else handlers[action]();
      } catch (error) {
        onError(`${name} handler (${action}) failed: ${(error as Error).message ?? error}`);
      }
    };
    api.addSignalListener(name, listener);
    attached.push([name, listener]);
  }
  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    for (const [signal, listener] of attached) api.removeSignalListener(signal, listener);
  };
}
