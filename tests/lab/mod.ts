export * from "./lab.ts";
