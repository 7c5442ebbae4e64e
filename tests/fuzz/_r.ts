import { replayInput } from "./runner.ts";
import { TARGETS } from "./targets/mod.ts";
const r = await replayInput(TARGETS[Deno.args[0]], Number(Deno.args[1]), Number(Deno.args[2]));
console.log(JSON.stringify(new TextDecoder().decode(r.input)));
console.log(r.failure?.stack ?? r.label);
