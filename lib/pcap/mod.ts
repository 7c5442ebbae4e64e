export * from "./file.ts";
export * from "./link.ts";
export * from "./inspect.ts";
export { formatRecord, judgeRecord, recordToJson } from "./records_view.ts";
