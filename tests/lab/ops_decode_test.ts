/**
 * `pfsyncd decode` on captures made during a lab run (issue 7, "Done when"):
 * two agents with CARP on the LAN and authenticated pfsync on a sync segment;
 * the switch captures both (Ethernet) and fw2 captures `-i any` (Linux
 * cooked). Every packet is printed, with every check passing — including
 * the CARP HMAC and the pfsync authentication trailer — and the records are
 * the ones the test made happen.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { startAgent } from "./agent.ts";
import { decodeCapture } from "./fixtures/ops_decode.ts";
import {
  importText,
  pfsyncYaml,
  PREEMPT,
  stateId,
  stateLines,
  syncTopology,
  waitForCount,
} from "./fixtures/pfsync_common.ts";
import { labTest, runCommand, sleep } from "./lab.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const VIP = "192.0.2.100";

labTest(
  "ops: decode prints every CARP and pfsync packet of a lab capture with correct checks",
  async (lab) => {
    const { fws: [fw1, fw2], sw } = await syncTopology(lab, 2);
    const keyfile = lab.tempPath("pfsync.key");
    await Deno.writeTextFile(keyfile, "00112233445566778899aabbccddeeff00112233\n");
    const yaml = (hostid: number, advskew: number) =>
      pfsyncYaml({ hostid, advskew, vip: `${VIP}/24`, keyfile });

    const lan = await sw.tcpdump("brlan", "ip proto 112", { label: "lan" });
    const sync = await sw.tcpdump("brsync", "ip proto 240", { label: "sync" });
    const cooked = await fw2.tcpdump("any", "ip proto 112 or ip proto 240", { label: "any" });

    const a = await startAgent(fw1, lab, { yaml: yaml(1, 0), sysctl: PREEMPT });
    await a.waitForVhid(1, "MASTER", { timeoutMs: 10_000 });
    const b = await startAgent(fw2, lab, { yaml: yaml(2, 100), sysctl: PREEMPT });
    await b.waitForVhid(1, "BACKUP", { timeoutMs: 10_000 });

    // Five inserts; then updates of four of them and the delete of the fifth (an
    // update still queued when its state is deleted is never sent, so the
    // deleted state is left out of the updates to keep the expectation exact).
    await importText(lab, a, stateLines(1, 5));
    await waitForCount(b, 5, 10_000);
    await importText(lab, a, stateLines(1, 2, 5000) + stateLines(4, 2, 5000));
    const run = await a.cli(["states", "delete", "--id", stateId(3), "--creator", "00000001"]);
    assertEquals(run.code, 0, run.stderr);
    await waitForCount(b, 4, 10_000);
    await sleep(1_200); // past the sender's 1 s flush interval: every queued update is out
    const [pcapLan, pcapSync, pcapAny] = await Promise.all([
      lan.stop(),
      sync.stop(),
      cooked.stop(),
    ]);

    const args = ["--pass", "labpass", "--vip", VIP, "--auth-key", keyfile];
    const carp = await decodeCapture(pcapLan, args);
    const pf = await decodeCapture(pcapSync, args);
    const any = await decodeCapture(pcapAny, args);

    // Every packet is there and passes every check a receiver makes.
    const tcpdumpCount = async (pcap: string) =>
      (await runCommand(["tcpdump", "-r", pcap, "-nn", "-q"])).stdout.trim().split("\n").length;
    assertEquals(carp.length, await tcpdumpCount(pcapLan));
    assertEquals(pf.length, await tcpdumpCount(pcapSync));
    assertEquals(any.length, await tcpdumpCount(pcapAny));
    for (const p of [...carp, ...pf, ...any]) {
      assertEquals(p.ok, true, JSON.stringify(p));
      for (const c of p.checks) assertEquals(c.ok, true, `${c.name}: ${c.detail}`);
    }
    assert(carp.length >= 3 && carp.every((p) => p.protocol === "carp" && p.vhid === 1));
    // (advskew 240 while fw1's own bulk update is pending: preemption suppressed)
    assert(carp.some((p) => p.src === "192.0.2.1"), "fw1's advertisements");
    assert(
      pf.every((p) =>
        p.protocol === "pfsync" && p.checks.some((c: { name: string }) => c.name === "auth")
      ),
    );

    // The records are what happened: bulk requests, 5 inserts, 4 updates, 1 delete from fw1.
    const fromFw1 = pf.filter((p) => p.src === "10.240.0.1");
    const records = (name: string) =>
      fromFw1.filter((p) => p.actionName === name).flatMap((p) => p.records);
    assertEquals(records("INS").map((r) => r.id).sort(), [1, 2, 3, 4, 5].map((i) => stateId(i)));
    const updated = new Set([...records("UPD_C"), ...records("UPD")].map((r) => r.id));
    assertEquals([...updated].sort(), [1, 2, 4, 5].map((i) => stateId(i)));
    assertEquals(records("DEL_C").map((r) => r.id), [stateId(3)]);
    assert(
      pf.some((p) => p.src === "10.240.0.2" && p.actionName === "UREQ" && p.records[0].bulk),
      "fw2's bulk request",
    );

    // The cooked capture holds both protocols as fw2 saw them: multicast in, its own out.
    const seen = (protocol: string, direction: string, src: string) =>
      any.some((p) => p.protocol === protocol && p.direction === direction && p.src === src);
    assert(
      seen("carp", "M", "192.0.2.1"),
      JSON.stringify(any.map((p) => [p.protocol, p.direction, p.src])),
    );
    assert(seen("pfsync", "M", "10.240.0.1"));
    assert(seen("pfsync", "Out", "10.240.0.2"));

    // Text form: one line a packet, one indented line a record.
    const text = await runCommand([
      Deno.execPath(),
      "run",
      "--allow-read",
      MAIN,
      "decode",
      pcapSync,
      ...args,
    ]);
    assertEquals(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split("\n");
    const recordLines = pf.reduce((n, p) => n + p.records.length, 0);
    assertEquals(lines.length, pf.length + recordLines);
    assertEquals(lines.filter((l) => l.startsWith("#")).length, pf.length);
    assertMatch(
      lines.find((l) => l.includes(" DEL_C "))!,
      /\[ipsum ok, ttl ok, hdr ok, auth ok\]$/,
    );
    assertMatch(
      text.stderr,
      new RegExp(`${pf.length} frames \\(EN10MB\\): 0 CARP, ${pf.length} pfsync, 0 failing`),
    );

    // The same with fw2's own configuration files: vhid, passphrase, addresses and key from them.
    const own = await decodeCapture(pcapAny, ["-c", b.yamlPath, "-f", "/dev/null"]);
    assertEquals(own.length, any.length);
    for (const p of own) assertEquals(p.ok, true, JSON.stringify(p));
    assert(
      own.filter((p) => p.protocol === "carp").every((p) =>
        p.checks.some((c: { name: string; ok: boolean }) => c.name === "vhid" && c.ok)
      ),
    );

    // A wrong passphrase or key is caught on the same packets.
    const wrong = await decodeCapture(pcapLan, ["--pass", "other", "--vip", VIP]);
    assert(wrong.every((p) => !p.ok && p.checks.at(-1).reason === "badauth"));
  },
  { timeoutMs: 60_000 },
);
