/**
 * The CLI's (and tests') side of the control socket: one connection, any
 * number of concurrent requests matched to responses by id, and streams that
 * end when the caller stops iterating. A request the agent does not answer
 * within the timeout (10 s unless told) rejects with AgentTimeoutError; bytes
 * of a large answer arriving count as an answer in progress.
 */
import { readLines } from "./lines.ts";
import {
  ControlError,
  DEFAULT_CONTROL_PATH,
  encodeLine,
  parseResponse,
  type RequestId,
  type StreamMethod,
  type StreamMethods,
  type UnaryMethod,
  type UnaryMethods,
} from "./protocol.ts";

/** Connecting failed: no agent, a stale socket, or no permission. */
export class AgentNotRunningError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(
      `cannot reach the pfsyncd agent on ${path}: ${reason}; ` +
        `is it running? start it with 'pfsyncd run' or pass --control PATH`,
    );
    this.name = "AgentNotRunningError";
    this.path = path;
  }
}

/**
 * The agent gave no answer in time: overloaded, stopped (SIGSTOP) or hung.
 * A kind of AgentNotRunningError, so every command reports it the same way.
 */
export class AgentTimeoutError extends AgentNotRunningError {
  readonly method: string;
  readonly timeoutMs: number;
  constructor(path: string, method: string, timeoutMs: number) {
    super(path, "no answer");
    this.name = "AgentTimeoutError";
    this.method = method;
    this.timeoutMs = timeoutMs;
    this.message = `the pfsyncd agent on ${path} did not answer "${method}" within ${
      timeoutMs / 1000
    } s; it may be overloaded or hung (see its log)`;
  }
}

/** How long a request may go without any answer from the agent (ms). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface ControlClientOptions {
  /** Per request: ms without an answer before AgentTimeoutError; 0 waits forever. */
  readonly timeoutMs?: number;
}

// Responses (a states listing) may be large; requests are the ones capped.
const MAX_RESPONSE_BYTES = 1 << 30;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Arms (or re-arms) the no-answer timer; a no-op without a timeout. */
  arm(): void;
  disarm(): void;
}

interface StreamSink {
  push(event: unknown): void;
  end(error?: Error): void;
}

export class ControlClient {
  readonly path: string;
  readonly timeoutMs: number;
  #conn: Deno.Conn;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #nextId = 1;
  #waiters = new Map<RequestId, Waiter>();
  #streams = new Map<RequestId, StreamSink>();
  #closed = false;
  #closedByUs = false;
  #readLoop: Promise<void>;

  private constructor(path: string, conn: Deno.Conn, timeoutMs: number) {
    this.path = path;
    this.timeoutMs = timeoutMs;
    this.#conn = conn;
    this.#writer = conn.writable.getWriter();
    this.#readLoop = this.#read();
  }

  static async connect(
    path = DEFAULT_CONTROL_PATH,
    options: ControlClientOptions = {},
  ): Promise<ControlClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    try {
      return new ControlClient(path, await Deno.connect({ transport: "unix", path }), timeoutMs);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new AgentNotRunningError(path, "no such socket");
      }
      if (error instanceof Deno.errors.ConnectionRefused) {
        throw new AgentNotRunningError(path, "connection refused (stale socket file)");
      }
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new AgentNotRunningError(path, "permission denied (the socket is mode 0600)");
      }
      throw error;
    }
  }

  /**
   * Sends one request and waits for its result; agent errors reject as
   * ControlError, no answer within `timeoutMs` (default: the client's) as
   * AgentTimeoutError.
   */
  call<M extends UnaryMethod>(
    method: M,
    params: UnaryMethods[M]["params"],
    options: ControlClientOptions = {},
  ): Promise<UnaryMethods[M]["result"]> {
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const answer = new Promise<unknown>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const disarm = () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
      };
      const arm = () => {
        if (!(timeoutMs > 0) || timeoutMs === Infinity) return;
        disarm();
        timer = setTimeout(() => {
          timer = undefined;
          this.#waiters.delete(id);
          reject(new AgentTimeoutError(this.path, method, timeoutMs));
        }, timeoutMs);
      };
      this.#waiters.set(id, {
        resolve: (value) => {
          disarm();
          resolve(value);
        },
        reject: (error) => {
          disarm();
          reject(error);
        },
        arm,
        disarm,
      });
      arm();
    });
    this.#send(id, method, params).catch((error) => this.#fail(id, error));
    return answer as Promise<UnaryMethods[M]["result"]>;
  }

  /** Starts a stream; breaking out of the loop closes the connection. */
  async *stream<M extends StreamMethod>(
    method: M,
    params: StreamMethods[M]["params"],
  ): AsyncGenerator<StreamMethods[M]["event"]> {
    const id = this.#nextId++;
    const queue: unknown[] = [];
    let ended = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    this.#streams.set(id, {
      push(event) {
        queue.push(event);
        wake?.();
      },
      end(error) {
        ended = true;
        failure = error;
        wake?.();
      },
    });
    try {
      await this.#send(id, method, params);
      while (true) {
        if (queue.length > 0) {
          yield queue.shift() as StreamMethods[M]["event"];
          continue;
        }
        if (ended) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      this.#streams.delete(id);
      this.close();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedByUs = true;
    try {
      this.#conn.close();
    } catch {
      // The agent closed first.
    }
  }

  /** Resolves once the connection is fully closed and every waiter settled. */
  closed(): Promise<void> {
    return this.#readLoop;
  }

  async #send(id: RequestId, method: string, params: unknown): Promise<void> {
    if (this.#closed) throw new ControlError("failed", "control connection is closed");
    const line = encodeLine({ id, method, params: params as Record<string, unknown> });
    await this.#writer.write(new TextEncoder().encode(line));
  }

  #fail(id: RequestId, error: Error): void {
    const waiter = this.#waiters.get(id);
    this.#waiters.delete(id);
    waiter?.reject(error);
  }

  async #read(): Promise<void> {
    let failure: Error = new ControlError("failed", "the agent closed the control connection");
    // Bytes arriving mean an answer is on its way: restart the waiters' clocks.
    const activity = new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        for (const waiter of this.#waiters.values()) waiter.arm();
        controller.enqueue(chunk);
      },
    });
    try {
      for await (
        const line of readLines(this.#conn.readable.pipeThrough(activity), MAX_RESPONSE_BYTES)
      ) {
        if (line.trim() === "") continue;
        const response = parseResponse(line);
        if ("error" in response && response.id === null) {
          // The agent rejected our framing; it closes the connection next.
          failure = new ControlError(response.error.code, response.error.message);
          continue;
        }
        this.#dispatch(response);
      }
    } catch (error) {
      if (!this.#closedByUs) failure = error as Error;
    }
    this.#closed = true;
    for (const waiter of this.#waiters.values()) waiter.reject(failure);
    this.#waiters.clear();
    // A stream the caller stopped ends quietly; one the agent dropped ends with an error.
    for (const sink of this.#streams.values()) sink.end(this.#closedByUs ? undefined : failure);
    this.#streams.clear();
  }

  #dispatch(response: ReturnType<typeof parseResponse>): void {
    const id = response.id as RequestId;
    const sink = this.#streams.get(id);
    if (sink) {
      if ("event" in response) sink.push(response.event);
      else if ("error" in response) {
        sink.end(new ControlError(response.error.code, response.error.message));
      } else sink.end();
      return;
    }
    const waiter = this.#waiters.get(id);
    if (!waiter) return;
    this.#waiters.delete(id);
    if ("error" in response) {
      waiter.reject(new ControlError(response.error.code, response.error.message));
    } else if ("result" in response) waiter.resolve(response.result);
  }
}

/** Connects, makes one call, disconnects: what most CLI commands need. */
export async function callAgent<M extends UnaryMethod>(
  path: string,
  method: M,
  params: UnaryMethods[M]["params"],
  options: ControlClientOptions = {},
): Promise<UnaryMethods[M]["result"]> {
  const client = await ControlClient.connect(path, options);
  try {
    return await client.call(method, params);
  } finally {
    client.close();
    await client.closed();
  }
}
