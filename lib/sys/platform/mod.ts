/**
 * The running platform's table. Selecting it reads only `Deno.build.os`,
 * which needs no permission, so importing this module is always safe.
 */
import { freebsd } from "./freebsd.ts";
import { linux } from "./linux.ts";
import type { ConstantName, Platform, StructLayout, StructName } from "./types.ts";

export { freebsd } from "./freebsd.ts";
export { linux } from "./linux.ts";
export { CONSTANT_NAMES, STRUCT_NAMES } from "./types.ts";
export type { ConstantName, Platform, StructLayout, StructName } from "./types.ts";

export function platformFor(os: string): Platform | undefined {
  if (os === "linux") return linux;
  if (os === "freebsd") return freebsd;
  return undefined;
}

let current: Platform | undefined;

/** The table for this OS; throws on an OS pfsyncd has no table for. */
export function platform(): Platform {
  if (current) return current;
  const found = platformFor(Deno.build.os);
  if (!found) {
    throw new Error(`pfsyncd has no system table for ${Deno.build.os} (supported: linux, freebsd)`);
  }
  current = found;
  return found;
}

/** A constant the caller cannot work without; names the platform when it is missing. */
export function requireConstant(name: ConstantName, table: Platform = platform()): number {
  const value = table.constants[name];
  if (value === undefined) throw new Error(`${name} does not exist on ${table.os}`);
  return value;
}

export function requireStruct(name: StructName, table: Platform = platform()): StructLayout {
  const layout = table.structs[name];
  if (!layout) throw new Error(`struct ${name} does not exist on ${table.os}`);
  return layout;
}

/** errno number → name, e.g. 105 → "ENOBUFS" on Linux; unknown numbers render as "E<n>". */
export function errnoName(errno: number, table: Platform = platform()): string {
  for (const [name, value] of Object.entries(table.errnoNames)) {
    if (value === errno) return name;
  }
  return `E${errno}`;
}

export function errnoNumber(name: string, table: Platform = platform()): number | undefined {
  return table.errnoNames[name];
}
