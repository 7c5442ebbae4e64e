export { runPfsyncCodecBench } from "./codec.ts";
export { measureStateTable, runStateTableBench, type TableBenchResult } from "./table.ts";
