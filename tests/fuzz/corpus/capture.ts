/**
 * Records the captured-traffic corpus of the fuzzers (run as root, by hand,
 * when the wire formats change): two pfsyncd agents and a ucarp pair in lab
 * namespaces, tcpdump on the CARP LAN and on the sync link, while states are
 * imported, updated by a re-import, and deleted, and a bulk update runs.
 *
 *   deno run -A tests/fuzz/corpus/capture.ts
 *
 * Writes tests/fuzz/corpus/carp_lan.pcap and pfsync_link.pcap (Ethernet).
 */
import { stateToJson } from "../../../lib/state/json.ts";
import { startAgent } from "../../lab/agent.ts";
import { sleep, withLab } from "../../lab/lab.ts";
import { makeState } from "../../pfsync/fixtures.ts";

const OUT = new URL("./", import.meta.url);

function yaml(hostid: number, advskew: number): string {
  return [
    `hostid: ${hostid}`,
    "log: {level: debug}",
    "carp:",
    `  - {vhid: 1, parent: eth0, pass: secret, advbase: 1, advskew: ${advskew}, ` +
    "addresses: [192.0.2.100/24]}",
    `  - {vhid: 2, parent: eth0, pass: other, advbase: 1, advskew: ${advskew}, ` +
    'addresses: [198.51.100.100/24, "2001:db8::100/64"]}',
    "pfsync: {syncif: sync0}",
  ].join("\n") + "\n";
}

await withLab(async (lab) => {
  const fw1 = await lab.namespace("fw1");
  const fw2 = await lab.namespace("fw2");
  const uc = await lab.namespace("uc");
  const lan = await lab.namespace("lan");
  await lab.link(fw1, "eth0", lan, "p1");
  await lab.link(fw2, "eth0", lan, "p2");
  await lab.link(uc, "eth0", lan, "p3");
  await lab.bridge(lan, "br0", ["p1", "p2", "p3"]);
  await lab.link(fw1, "sync0", fw2, "sync0");
  await fw1.addr("eth0", "192.0.2.1/24");
  await fw2.addr("eth0", "192.0.2.2/24");
  await uc.addr("eth0", "10.99.0.1/24");
  await fw1.addr("sync0", "10.9.0.1/24");
  await fw2.addr("sync0", "10.9.0.2/24");

  const carp = await lan.tcpdump("br0", "ip proto 112 or ip6 proto 112");
  const sync = await fw1.tcpdump("sync0", "ip proto 240");

  // ucarp's advertisements: the spec's vhid 7 / "secret" / 10.99.0.100 setup.
  uc.spawn([
    "ucarp",
    "-i",
    "eth0",
    "-s",
    "10.99.0.1",
    "-v",
    "7",
    "-p",
    "secret",
    "-a",
    "10.99.0.100",
    "-b",
    "1",
    "-u",
    "/bin/true",
    "-d",
    "/bin/true",
  ], { label: "ucarp" });

  const a = await startAgent(fw1, lab, { yaml: yaml(1, 0), label: "a" });
  await a.waitForVhid(1, "MASTER", { timeoutMs: 10_000 });
  const file = lab.tempPath("states.jsonl");
  const states = Array.from({ length: 40 }, () => makeState({ creatorId: 1 }));
  const lines = (list: typeof states) =>
    list.map((s) => JSON.stringify(stateToJson(s))).join("\n") + "\n";
  await Deno.writeTextFile(file, lines(states));
  console.error((await a.cli(["states", "import", file])).stderr);

  // The second agent asks for a bulk update; then updates and deletes flow.
  const b = await startAgent(fw2, lab, { yaml: yaml(2, 100), label: "b" });
  await b.waitForVhid(1, "BACKUP", { timeoutMs: 10_000 });
  await sleep(2_000);
  const moved = states.slice(0, 10).map((s) => ({
    ...s,
    src: { ...s.src, seqlo: s.src.seqlo + 1000, seqhi: s.src.seqhi + 1000 },
    timeout: 3,
  }));
  await Deno.writeTextFile(file, lines(moved));
  console.error((await a.cli(["states", "import", file])).stderr);
  await sleep(500);
  for (const s of states.slice(30)) {
    await a.cli(["states", "delete", "--id", s.id.toString(16), "--creator", "1"]);
  }
  await sleep(500);
  await a.cli(["resync"]);
  await b.cli(["resync"]);
  await sleep(2_500);
  // A failover: the master bows out, the backup takes over.
  await a.stop();
  await sleep(1_500);
  await b.stop();

  await Deno.copyFile(await carp.stop(), new URL("carp_lan.pcap", OUT));
  await Deno.copyFile(await sync.stop(), new URL("pfsync_link.pcap", OUT));
  console.error(await carp.text(["-c", "5"]));
  console.error(await sync.text(["-c", "12"]));
});
