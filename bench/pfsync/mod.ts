export { runPfsyncCodecBench } from "./codec.ts";
export { measureSync, runPfsyncSyncBench, type SyncBenchResult } from "./sync.ts";
export { measureStateTable, runStateTableBench, type TableBenchResult } from "./table.ts";
