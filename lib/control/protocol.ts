/**
 * The control protocol: newline-delimited JSON over a Unix stream socket.
 *
 *   request   {"id":1,"method":"status","params":{}}
 *   response  {"id":1,"result":{...}}  or  {"id":1,"error":{"code":"...","message":"..."}}
 *   stream    {"id":1,"event":{...}}   (watch; until the client closes)
 *
 * A request line longer than MAX_REQUEST_BYTES, a line that is not JSON, or a
 * JSON value that is not a request gets one error response with id null, and
 * the connection is closed: a client that speaks garbage cannot be trusted to
 * frame the next line correctly.
 *
 * End of input from the client (even a half-close) ends its streams: a
 * watching client keeps its side open, and closing it is how it says "stop".
 */
import type { DemotionStatus, StateView, StatusResult, WatchEvent } from "./types.ts";

export const DEFAULT_CONTROL_PATH = "/var/run/pfsyncd.sock";
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** File mode of the socket: only root (the agent's user) may steer the agent. */
export const CONTROL_SOCKET_MODE = 0o600;

export type RequestId = number | string;

/** The minimal flow form `states import` and `states delete --flow` share. */
export interface FlowKey {
  proto: string;
  src: string;
  dst: string;
}

export interface StatesParams {
  verbose?: boolean;
}
export interface StatesResult {
  states: StateView[];
}
/** `states.digest`: an order-independent hash of what sync must carry (lib/state/digest.ts). */
export interface StatesDigestResult {
  count: number;
  /** 16 hex digits; equal on two agents whose tables agree on key, proto, src, dst and peers. */
  digest: string;
}
export interface StatesImportParams {
  lines: string[];
}
export interface StatesImportResult {
  imported: number;
  /** Lines that named an existing state (same id and creator) and replaced it. */
  updated?: number;
  errors: { line: number; message: string }[];
}
export interface StatesGenerateParams {
  count: number;
  seed?: number;
}
export interface StatesGenerateResult {
  generated: number;
  /** States whose flow the table already held (the same seed generated again). */
  duplicates: number;
  /** When the first state was inserted, ms since the epoch. */
  startedAt: number;
  /** First insert → last insert, ms. */
  ms: number;
}
export interface StatesDeleteParams {
  id?: string;
  creatorid?: string;
  flow?: FlowKey;
}
export interface StatesDeleteResult {
  deleted: number;
}
export interface DemoteParams {
  delta: number;
}
export interface MaintenanceParams {
  on: boolean;
}
export interface ResyncResult {
  requested: boolean;
}
export interface ReloadResult {
  reloaded: boolean;
  /** What the reload changed, one line each ("vhid 1 advskew 0 -> 100"). */
  changes: string[];
}

/** Request/response methods: params in, one result out. */
export interface UnaryMethods {
  status: { params: Record<string, never>; result: StatusResult };
  states: { params: StatesParams; result: StatesResult };
  "states.digest": { params: Record<string, never>; result: StatesDigestResult };
  "states.import": { params: StatesImportParams; result: StatesImportResult };
  "states.delete": { params: StatesDeleteParams; result: StatesDeleteResult };
  "states.generate": { params: StatesGenerateParams; result: StatesGenerateResult };
  demote: { params: DemoteParams; result: DemotionStatus };
  resync: { params: Record<string, never>; result: ResyncResult };
  maintenance: { params: MaintenanceParams; result: DemotionStatus };
  reload: { params: Record<string, never>; result: ReloadResult };
}

/** Streaming methods: params in, events out until the client closes. */
export interface StreamMethods {
  watch: { params: Record<string, never>; event: WatchEvent };
}

export type UnaryMethod = keyof UnaryMethods;
export type StreamMethod = keyof StreamMethods;
export type Method = UnaryMethod | StreamMethod;

export const UNARY_METHODS: readonly UnaryMethod[] = [
  "status",
  "states",
  "states.digest",
  "states.import",
  "states.delete",
  "states.generate",
  "demote",
  "resync",
  "maintenance",
  "reload",
];
export const STREAM_METHODS: readonly StreamMethod[] = ["watch"];

/** What a handler learns about the request besides its params. */
export interface RequestContext {
  /** Aborted when the client goes away or the server closes; streams must end then. */
  signal: AbortSignal;
  /** Counts connections since the server started, for log lines. */
  connection: number;
}

/**
 * The handler table the agent gives the server. A missing entry answers
 * `not_supported`, so a partly wired agent (or a test) still serves the rest.
 */
export type ControlHandlers =
  & {
    [M in UnaryMethod]?: (
      params: UnaryMethods[M]["params"],
      ctx: RequestContext,
    ) => Promise<UnaryMethods[M]["result"]>;
  }
  & {
    [M in StreamMethod]?: (
      params: StreamMethods[M]["params"],
      ctx: RequestContext,
    ) => AsyncIterable<StreamMethods[M]["event"]>;
  };

export type ErrorCode =
  | "parse_error"
  | "request_too_large"
  | "invalid_request"
  | "unknown_method"
  | "not_supported"
  | "invalid_params"
  | "failed"
  | "internal";

export interface ControlErrorBody {
  code: string;
  message: string;
}

/** Thrown by handlers (and by the client) to carry a code across the socket. */
export class ControlError extends Error {
  readonly code: string;
  constructor(code: ErrorCode | string, message: string) {
    super(message);
    this.name = "ControlError";
    this.code = code;
  }
}

export interface Request {
  id: RequestId;
  method: string;
  params: Record<string, unknown>;
}

export type Response =
  | { id: RequestId | null; result: unknown }
  | { id: RequestId | null; error: ControlErrorBody }
  | { id: RequestId; event: unknown };

export function encodeLine(message: Request | Response): string {
  return JSON.stringify(message) + "\n";
}

/** Parses one request line; throws ControlError(parse_error | invalid_request). */
export function parseRequest(line: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ControlError("parse_error", `request is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new ControlError("invalid_request", "request must be a JSON object");
  const { id, method, params } = value;
  if (typeof id !== "number" && typeof id !== "string") {
    throw new ControlError("invalid_request", 'request needs an "id" (number or string)');
  }
  if (typeof method !== "string" || method === "") {
    throw new ControlError("invalid_request", 'request needs a "method" string');
  }
  if (params !== undefined && !isObject(params)) {
    throw new ControlError("invalid_request", '"params" must be an object when present');
  }
  return { id, method, params: (params ?? {}) as Record<string, unknown> };
}

/** Parses one line a server sent; throws ControlError(parse_error) on garbage. */
export function parseResponse(line: string): Response {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ControlError("parse_error", `agent sent invalid JSON: ${(error as Error).message}`);
  }
  if (!isObject(value) || !("id" in value)) {
    throw new ControlError("parse_error", "agent sent a line that is not a response");
  }
  if (!("result" in value) && !("error" in value) && !("event" in value)) {
    throw new ControlError("parse_error", "agent sent a response without result, error or event");
  }
  return value as Response;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
