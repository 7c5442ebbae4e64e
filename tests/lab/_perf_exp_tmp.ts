import { startAgent } from "./agent.ts";
import { pfsyncYaml, syncTopology } from "./fixtures/pfsync_common.ts";
import { withLab } from "./lab.ts";
import { callAgent } from "../../lib/control/client.ts";
const FEED = new URL("../../bench/pfsync/feed.ts", import.meta.url).pathname;
const count = Number(Deno.args[0] ?? 300000);
const pps = Number(Deno.args[1] ?? 100000);
await withLab(async (lab) => {
  const { fws, injector } = await syncTopology(lab, 1, { injector: true, mtu: 9000 });
  const a = await startAgent(fws[0], lab, { yaml: pfsyncYaml({ hostid: 1 }) });
  const feed = injector!.spawnDeno(FEED, ["10.240.0.1", String(count), String(pps)]);
  const t0 = performance.now();
  let worst = 0;
  while (!feed.exited || performance.now() - t0 < 3000) {
    const s = performance.now();
    let timer;
    const r = await Promise.race([callAgent(a.control, "status", {}), new Promise((res) => timer = setTimeout(() => res(undefined), 15000))]);
    clearTimeout(timer);
    const ms = performance.now() - s;
    worst = Math.max(worst, ms);
    console.log(((s - t0) / 1000).toFixed(2), ms.toFixed(1), (r as any)?.states?.count, (r as any)?.pfsync?.stats?.ipackets);
    if (performance.now() - t0 > 30000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log("feed", feed.output().stdout, "worst", worst);
  console.log(a.log().slice(-2000));
});
