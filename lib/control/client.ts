/**
 * The CLI's (and tests') side of the control socket: one connection, any
 * number of concurrent requests matched to responses by id, and streams that
 * end when the caller stops iterating.
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

// Responses (a states listing) may be large; requests are the ones capped.
const MAX_RESPONSE_BYTES = 1 << 30;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface StreamSink {
  push(event: unknown): void;
  end(error?: Error): void;
}

export class ControlClient {
  readonly path: string;
  #conn: Deno.Conn;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #nextId = 1;
  #waiters = new Map<RequestId, Waiter>();
  #streams = new Map<RequestId, StreamSink>();
  #closed = false;
  #closedByUs = false;
  #readLoop: Promise<void>;

  private constructor(path: string, conn: Deno.Conn) {
    this.path = path;
    this.#conn = conn;
    this.#writer = conn.writable.getWriter();
    this.#readLoop = this.#read();
  }

  static async connect(path = DEFAULT_CONTROL_PATH): Promise<ControlClient> {
    try {
      return new ControlClient(path, await Deno.connect({ transport: "unix", path }));
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

  /** Sends one request and waits for its result; agent errors reject as ControlError. */
  call<M extends UnaryMethod>(
    method: M,
    params: UnaryMethods[M]["params"],
  ): Promise<UnaryMethods[M]["result"]> {
    const id = this.#nextId++;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject });
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
    try {
      for await (const line of readLines(this.#conn.readable, MAX_RESPONSE_BYTES)) {
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
): Promise<UnaryMethods[M]["result"]> {
  const client = await ControlClient.connect(path);
  try {
    return await client.call(method, params);
  } finally {
    client.close();
    await client.closed();
  }
}
