export * from "./file.ts";
export * from "./link.ts";
