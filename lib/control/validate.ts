/**
 * Params checking for every method, done by the server before a handler runs,
 * so handlers receive typed, normalised params and a bad client gets a precise
 * `invalid_params` message instead of an agent-side exception.
 */
import { normalizeFlow } from "./flow.ts";
import { ControlError, type FlowKey, isObject, type Method } from "./protocol.ts";

type Params = Record<string, unknown>;
type Validator = (params: Params) => Params;

function invalid(message: string): never {
  throw new ControlError("invalid_params", message);
}

function optionalBoolean(params: Params, key: string): boolean | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") invalid(`"${key}" must be true or false`);
  return value;
}

/** Ids travel as hex strings: 64-bit ids do not fit a JSON number. */
export function normalizeHexId(value: unknown, key: string, digits: number): string {
  if (typeof value !== "string") invalid(`"${key}" must be a hex string`);
  const text = value.toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]+$/.test(text) || text.length > digits) {
    invalid(`"${key}" must be at most ${digits} hex digits, got "${value}"`);
  }
  return text.padStart(digits, "0");
}

/** Most states one `states.generate` request may ask for. */
export const MAX_GENERATE = 16_000_000;

const none: Validator = () => ({});

const VALIDATORS: Readonly<Record<Method, Validator>> = {
  status: none,
  resync: none,
  reload: none,
  watch: none,
  "states.digest": none,
  states: (params) => {
    const verbose = optionalBoolean(params, "verbose");
    return verbose === undefined ? {} : { verbose };
  },
  "states.import": (params) => {
    const lines = params.lines;
    if (!Array.isArray(lines) || !lines.every((line) => typeof line === "string")) {
      invalid('"lines" must be an array of strings');
    }
    return { lines };
  },
  "states.delete": (params) => {
    const out: Params = {};
    if (params.id !== undefined) out.id = normalizeHexId(params.id, "id", 16);
    if (params.creatorid !== undefined) {
      out.creatorid = normalizeHexId(params.creatorid, "creatorid", 8);
    }
    if (params.flow !== undefined) {
      const flow = params.flow;
      if (
        !isObject(flow) || typeof flow.proto !== "string" || typeof flow.src !== "string" ||
        typeof flow.dst !== "string"
      ) {
        invalid('"flow" must be {"proto","src","dst"} strings');
      }
      out.flow = normalizeFlow(flow as unknown as FlowKey);
    }
    if (out.id === undefined && out.flow === undefined) invalid('give "id" or "flow"');
    if (out.id !== undefined && out.flow !== undefined) invalid('give "id" or "flow", not both');
    if (out.creatorid !== undefined && out.id === undefined) invalid('"creatorid" needs "id"');
    return out;
  },
  "states.generate": (params) => {
    const { count, seed } = params;
    if (
      typeof count !== "number" || !Number.isInteger(count) || count < 0 || count > MAX_GENERATE
    ) {
      invalid(`"count" must be an integer from 0 to ${MAX_GENERATE}`);
    }
    if (seed === undefined) return { count };
    if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      invalid('"seed" must be an integer from 0 to 4294967295');
    }
    return { count, seed };
  },
  demote: (params) => {
    const delta = params.delta;
    if (typeof delta !== "number" || !Number.isInteger(delta) || Math.abs(delta) > 255) {
      invalid('"delta" must be an integer from -255 to 255');
    }
    return { delta };
  },
  maintenance: (params) => {
    const on = optionalBoolean(params, "on");
    if (on === undefined) invalid('"on" (true or false) is required');
    return { on };
  },
};

export function isKnownMethod(method: string): method is Method {
  return Object.hasOwn(VALIDATORS, method);
}

/** Returns normalised params or throws ControlError("invalid_params"). */
export function validateParams(method: Method, params: Params): Params {
  return VALIDATORS[method](params);
}
