/**
 * The real kernel: ConntrackProvider inside a throwaway network namespace,
 * checked with the conntrack tool (see fixtures/provider_in_netns.ts).
 */
import { labTest, waitFor } from "../../lab/lab.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";

interface Step {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: unknown;
}

/** The fixtures print one JSON object per step; anything else on stdout is ignored. */
function parseSteps(stdout: string): Step[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Step);
}

const FIXTURE = new URL("./fixtures/provider_in_netns.ts", import.meta.url);

labTest(
  "ConntrackProvider in a namespace: create, NAT, update, delete, conntrack -I/-D events",
  async (lab) => {
    const ns = await lab.namespace("ct");
    const result = await ns.runDeno(FIXTURE, [], { timeoutMs: 45_000 });
    const steps = result.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l) as { step: string; ok: boolean; detail: unknown }
    );
    const failed = steps.filter((s) => !s.ok);
    assert(
      result.success && failed.length === 0 && steps.at(-1)?.step === "done",
      `fixture failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  },
  { timeoutMs: 60_000 },
);

const OVERRUN = new URL("./fixtures/overrun_in_netns.ts", import.meta.url);

labTest(
  "ConntrackProvider in a namespace: ENOBUFS counted, resync repairs creates and a flush",
  async (lab) => {
    const ns = await lab.namespace("ctovr");
    const result = await ns.runDeno(OVERRUN, ["3000", "5000"], { timeoutMs: 45_000 });
    const steps = parseSteps(result.stdout);
    assert(
      result.success && steps.every((s) => s.ok) && steps.at(-1)?.step === "done",
      `fixture failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
    const rate = steps.find((s) => s.step === "inject peer states")?.detail;
    console.log(`peer-state injection in the lab: ${JSON.stringify(rate)}`);
  },
  { timeoutMs: 60_000 },
);

const TRAFFIC = new URL("./fixtures/traffic_in_netns.ts", import.meta.url);

interface TrafficChange {
  readonly type?: string;
  readonly proto?: number;
  readonly lan?: string;
  readonly ext?: string;
  readonly ctState?: number;
  readonly wscale?: number[];
}

labTest(
  "ConntrackProvider in a namespace: real packets (ping, TCP SYN) arrive as inserts",
  async (lab) => {
    const fw = await lab.namespace("fw");
    const client = await lab.namespace("cl");
    await lab.link(fw, "in0", client, "eth0");
    await fw.addr("in0", "10.77.0.1/24");
    await client.addr("eth0", "10.77.0.2/24");
    // Conntrack only tracks a namespace's packets once a rule there uses it.
    await fw.exec([
      "nft",
      "add table inet lab; add chain inet lab in { type filter hook input priority 0; }; " +
      "add rule inet lab in ct state new counter",
    ]);
    const agent = fw.spawnDeno(TRAFFIC, ["20000"]);
    await agent.waitForOutput(/"ready":true/, 15_000);
    await client.exec(["ping", "-c", "2", "-i", "0.2", "10.77.0.1"]);
    // Nothing listens on port 9: SYN then RST, still a NEW event with TCP protoinfo.
    await client.run(["bash", "-c", "exec 3<>/dev/tcp/10.77.0.1/9"]);
    const found = () => {
      const lines = agent.jsonLines<TrafficChange>();
      const icmp = lines.find((l) => l.type === "insert" && l.proto === 1);
      const tcp = lines.find((l) => l.type === "insert" && l.proto === 6);
      return icmp && tcp ? { icmp, tcp } : undefined;
    };
    const changes = await waitFor(found, { timeoutMs: 10_000 }).catch(async (error) => {
      const table = (await fw.run(["conntrack", "-L"])).stdout;
      const { stdout, stderr } = agent.output();
      throw new Error(`${error.message}\nagent:\n${stdout}${stderr}\nconntrack -L:\n${table}`);
    });
    // ICMP: both hosts carry the echo id as their "port" (LX1 rule 4).
    const id = changes.icmp.lan!.split(":")[1];
    assertEquals([changes.icmp.lan, changes.icmp.ext], [`10.77.0.2:${id}`, `10.77.0.1:${id}`]);
    assertEquals(changes.tcp.ext, "10.77.0.1:9");
    assertEquals(changes.tcp.ctState, 1); // SYN_SENT, the exact ct state in src.pad[0]
    await agent.stop();
  },
  { timeoutMs: 60_000 },
);
