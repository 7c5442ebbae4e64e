/**
 * The agent's side of the control socket. It owns the socket file (stale-file
 * cleanup, mode 0600, removal on close) and the framing; what each method does
 * is the agent's handler table. Nothing a client sends can throw out of here:
 * bad input costs that client its connection and nothing else.
 */
import { LineTooLongError, readLines } from "./lines.ts";
import {
  CONTROL_SOCKET_MODE,
  ControlError,
  type ControlErrorBody,
  type ControlHandlers,
  encodeLine,
  MAX_REQUEST_BYTES,
  parseRequest,
  type Request,
  type RequestContext,
  type Response,
  STREAM_METHODS,
  type StreamMethod,
  type UnaryMethod,
} from "./protocol.ts";
import { prepareSocketPath } from "./socket_path.ts";
import { isKnownMethod, validateParams } from "./validate.ts";

export interface ControlServerOptions {
  path: string;
  handlers: ControlHandlers;
  /** Told about handler failures and misbehaving clients (the agent logs them). */
  onError?: (message: string) => void;
  maxRequestBytes?: number;
}

export interface ControlServer {
  readonly path: string;
  /** Stops accepting, ends every connection and stream, removes the socket file. */
  close(): Promise<void>;
}

export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { path, handlers } = options;
  const onError = options.onError ?? (() => {});
  const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  await prepareSocketPath(path);
  const listener = Deno.listen({ transport: "unix", path });
  try {
    await Deno.chmod(path, CONTROL_SOCKET_MODE);
  } catch (error) {
    listener.close();
    throw new Error(`chmod ${path} 0600: ${(error as Error).message}`);
  }
  const ownInode = (await Deno.lstat(path)).ino;
  const closing = new AbortController();
  const connections = new Set<Promise<void>>();
  let counter = 0;

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        const done = serveConnection(conn, ++counter, handlers, maxBytes, closing.signal, onError);
        connections.add(done);
        done.finally(() => connections.delete(done));
      }
    } catch (error) {
      if (!closing.signal.aborted) onError(`control socket ${path}: accept: ${error}`);
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    path,
    close() {
      closed ??= (async () => {
        closing.abort();
        listener.close();
        await acceptLoop;
        await Promise.allSettled([...connections]);
        // Only remove the file if it is still ours, not a successor's socket.
        try {
          if ((await Deno.lstat(path)).ino === ownInode) await Deno.remove(path);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      })();
      return closed;
    },
  };
}

async function serveConnection(
  conn: Deno.Conn,
  connection: number,
  handlers: ControlHandlers,
  maxBytes: number,
  serverClosing: AbortSignal,
  onError: (message: string) => void,
): Promise<void> {
  const aborter = new AbortController();
  const stop = () => aborter.abort();
  serverClosing.addEventListener("abort", stop, { once: true });
  const ctx: RequestContext = { signal: aborter.signal, connection };
  const encoder = new TextEncoder();
  const writer = conn.writable.getWriter();
  let writeChain = Promise.resolve();
  const send = (message: Response): Promise<void> => {
    writeChain = writeChain.then(async () => {
      if (aborter.signal.aborted && !("error" in message)) return;
      try {
        await writer.write(encoder.encode(encodeLine(message)));
      } catch {
        aborter.abort(); // The client went away; its streams end with it.
      }
    });
    return writeChain;
  };
  const streams: Promise<void>[] = [];
  // Closing the connection is what unblocks a pending read on abort.
  aborter.signal.addEventListener("abort", () => closeQuietly(conn), { once: true });
  // A handler that never settles must not hold up close(): stop waiting on abort.
  const aborted = new Promise<null>((resolve) =>
    aborter.signal.addEventListener("abort", () => resolve(null), { once: true })
  );
  try {
    for await (const line of readLines(conn.readable, maxBytes)) {
      if (line.trim() === "") continue;
      let request: Request;
      try {
        request = parseRequest(line);
      } catch (error) {
        await send({ id: null, error: toBody(error) });
        onError(`control connection ${connection}: ${(error as Error).message}`);
        break;
      }
      if (STREAM_METHODS.includes(request.method as StreamMethod)) {
        streams.push(runStream(request, handlers, ctx, send, onError));
      } else {
        const response = await Promise.race([runUnary(request, handlers, ctx, onError), aborted]);
        if (response === null) break;
        await send(response);
      }
    }
  } catch (error) {
    if (error instanceof LineTooLongError) {
      const message = `request exceeds ${maxBytes} bytes; connection closed`;
      await send({ id: null, error: { code: "request_too_large", message } });
      onError(`control connection ${connection}: ${message}`);
    } else if (!aborter.signal.aborted) {
      onError(`control connection ${connection}: read: ${error}`);
    }
  } finally {
    aborter.abort();
    serverClosing.removeEventListener("abort", stop);
    await Promise.allSettled(streams);
    await writeChain;
    closeQuietly(conn);
  }
}

async function runUnary(
  request: Request,
  handlers: ControlHandlers,
  ctx: RequestContext,
  onError: (message: string) => void,
): Promise<Response> {
  try {
    const params = checkedParams(request, handlers);
    const handler = handlers[request.method as UnaryMethod] as (
      params: unknown,
      ctx: RequestContext,
    ) => Promise<unknown>;
    const result = await handler(params, ctx);
    return { id: request.id, result: result ?? null };
  } catch (error) {
    if (!(error instanceof ControlError)) onError(`control ${request.method}: ${error}`);
    return { id: request.id, error: toBody(error) };
  }
}

async function runStream(
  request: Request,
  handlers: ControlHandlers,
  ctx: RequestContext,
  send: (message: Response) => Promise<void>,
  onError: (message: string) => void,
): Promise<void> {
  let iterator: AsyncIterator<unknown> | undefined;
  try {
    const params = checkedParams(request, handlers);
    const handler = handlers[request.method as StreamMethod] as (
      params: unknown,
      ctx: RequestContext,
    ) => AsyncIterable<unknown>;
    iterator = handler(params, ctx)[Symbol.asyncIterator]();
    const aborted = new Promise<null>((resolve) => {
      if (ctx.signal.aborted) resolve(null);
      ctx.signal.addEventListener("abort", () => resolve(null), { once: true });
    });
    while (!ctx.signal.aborted) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === null) break;
      if (next.done) {
        // The agent ended the stream; tell the client it will get no more events.
        await send({ id: request.id, result: null });
        return;
      }
      await send({ id: request.id, event: next.value });
    }
    // Client gone: let the handler release its subscription; do not wait on it.
    iterator.return?.()?.catch(() => {});
  } catch (error) {
    if (!(error instanceof ControlError)) onError(`control ${request.method}: ${error}`);
    await send({ id: request.id, error: toBody(error) });
  }
}

function checkedParams(request: Request, handlers: ControlHandlers): unknown {
  const { method } = request;
  if (!isKnownMethod(method)) {
    throw new ControlError("unknown_method", `unknown method "${method}"`);
  }
  if (typeof handlers[method] !== "function") {
    throw new ControlError("not_supported", `this agent does not serve "${method}"`);
  }
  return validateParams(method, request.params);
}

function toBody(error: unknown): ControlErrorBody {
  if (error instanceof ControlError) return { code: error.code, message: error.message };
  return { code: "internal", message: error instanceof Error ? error.message : String(error) };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed by the other side or by an earlier abort.
  }
}
