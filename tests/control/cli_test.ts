/**
 * Every client command, run as the real CLI in a subprocess against a fake
 * agent served from this test process: exit codes, stdout and stderr.
 */
import { startControlServer } from "../../lib/control/server.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import {
  fakeAgent,
  SAMPLE_DIGEST,
  sampleStates,
  sampleStatus,
  tempSocketPath,
} from "./fixtures.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], stdin?: string): Promise<Outcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", MAIN, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

interface Case {
  args: string[];
  stdin?: string;
  code: number;
  stdout?: string[];
  stderr?: string[];
  /** What the fake agent must have been asked, last call. */
  call?: { method: string; params: unknown };
}

function cases(importFile: string): Case[] {
  return [
    {
      args: ["status"],
      code: 0,
      stdout: [
        "eth1: carp: MASTER vhid 1 advbase 1 advskew 0\n",
        "eth0: carp: BACKUP vhid 2 advbase 1 advskew 100\n",
        "pfsync: syncif: eth2 syncpeer: 224.0.0.240 maxupd: 128\n",
        "bulk update: done, 1234 states received (1 request)\n",
        "demotion: 241 (maintenance mode)\n",
        "\t3 packets discarded for bad ttl\n",
      ],
      call: { method: "status", params: {} },
    },
    { args: ["states"], code: 0, stdout: ["all tcp 192.0.2.10:1234 -> 198.51.100.7:80"] },
    {
      args: ["states", "-v"],
      code: 0,
      stdout: ["   id: 0000000000000001 creatorid: 0badcafe origin: local\n"],
      call: { method: "states", params: { verbose: true } },
    },
    {
      args: ["states", "--digest"],
      code: 0,
      stdout: [`2 ${SAMPLE_DIGEST}\n`],
      call: { method: "states.digest", params: {} },
    },
    {
      args: ["states", "import", importFile],
      code: 1,
      stdout: ["imported 2 states\n"],
      stderr: [`${importFile}:4: not a state`, "pfsyncd: 1 line rejected"],
    },
    {
      args: ["states", "import", "-"],
      stdin: '{"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"}\n',
      code: 0,
      stdout: ["imported 1 state\n"],
      call: {
        method: "states.import",
        params: { lines: ['{"proto":"tcp","src":"192.0.2.10:1234","dst":"198.51.100.7:80"}'] },
      },
    },
    {
      args: ["states", "delete", "--id", "1F", "--creator", "0xBADCAFE"],
      code: 0,
      stdout: ["deleted 1 state\n"],
      call: { method: "states.delete", params: { id: "000000000000001f", creatorid: "0badcafe" } },
    },
    {
      args: ["states", "delete", "--flow", "tcp 198.51.100.7:80 <- 192.0.2.10:1234"],
      code: 0,
      call: {
        method: "states.delete",
        params: { flow: { proto: "tcp", src: "192.0.2.10:1234", dst: "198.51.100.7:80" } },
      },
    },
    { args: ["states", "delete", "--id", "aa"], code: 1, stderr: ["no such state"] },
    { args: ["states", "delete"], code: 2, stderr: ["give either --id"] },
    { args: ["states", "delete", "--flow", "tcp x -> y"], code: 2, stderr: ["ADDRESS:PORT"] },
    { args: ["states", "delete", "--creator", "1"], code: 2, stderr: ["either --id"] },
    { args: ["states", "bogus"], code: 2 },
    {
      args: ["demote", "+5"],
      code: 0,
      stdout: ["demotion: 5\n\t+5 operator\n"],
      call: { method: "demote", params: { delta: 5 } },
    },
    { args: ["demote", "-5"], code: 0, stdout: ["demotion: 0\n"] },
    { args: ["demote"], code: 0, call: { method: "demote", params: { delta: 0 } } },
    { args: ["demote", "lots"], code: 2, stderr: ["not +N or -N"] },
    { args: ["resync"], code: 0, stdout: ["bulk update requested\n"] },
    {
      args: ["maintenance", "on"],
      code: 0,
      stdout: ["maintenance on\ndemotion: 240 (maintenance mode)\n\t+240 maintenance\n"],
      call: { method: "maintenance", params: { on: true } },
    },
    { args: ["maintenance", "off"], code: 0, stdout: ["maintenance off\ndemotion: 0\n"] },
    { args: ["maintenance", "maybe"], code: 2, stderr: ["on, off"] },
    { args: ["reload"], code: 1, stderr: ["kept the running configuration"] },
  ];
}

const CLIENT_COMMANDS = [
  ["status"],
  ["states"],
  ["states", "--digest"],
  ["states", "import", "-"],
  ["states", "delete", "--id", "1"],
  ["watch"],
  ["demote", "+1"],
  ["resync"],
  ["maintenance", "on"],
  ["reload"],
];

Deno.test("pfsyncd client commands: exit codes and output against a fake agent", async (t) => {
  const temp = await tempSocketPath();
  const agent = fakeAgent();
  const server = await startControlServer({ path: temp.path, handlers: agent.handlers });
  const importFile = temp.path.replace(/pfsyncd\.sock$/, "import.jsonl");
  await Deno.writeTextFile(importFile, '{"a":1}\n\n# comment\nbad line\n{"b":2}\n');
  try {
    for (const c of cases(importFile)) {
      await t.step(`pfsyncd ${c.args.join(" ")} → ${c.code}`, async () => {
        const before = agent.calls.length;
        const out = await cli([...c.args, "--control", temp.path], c.stdin);
        assertEquals(out.code, c.code, `stdout: ${out.stdout}\nstderr: ${out.stderr}`);
        for (const text of c.stdout ?? []) assertStringIncludes(out.stdout, text);
        for (const text of c.stderr ?? []) assertStringIncludes(out.stderr, text);
        if (c.call) {
          assert(agent.calls.length > before, "the agent was called");
          assertEquals(agent.calls.at(-1), c.call);
        }
      });
    }
    await t.step("pfsyncd status --json prints the status object", async () => {
      const out = await cli(["status", "--json", "--control", temp.path]);
      assertEquals(out.code, 0);
      assertEquals(JSON.parse(out.stdout), sampleStatus());
    });
    await t.step("pfsyncd states --json prints one importable object a line", async () => {
      const out = await cli(["states", "--json", "--control", temp.path]);
      assertEquals(out.code, 0);
      const lines = out.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
      assertEquals(lines, sampleStates());
    });
    await t.step("pfsyncd states --digest --json prints the digest object", async () => {
      const out = await cli(["states", "--digest", "--json", "--control", temp.path]);
      assertEquals(out.code, 0, out.stderr);
      assertEquals(out.stdout.split("\n").length, 2, "one line");
      assertEquals(JSON.parse(out.stdout), { count: 2, digest: SAMPLE_DIGEST });
    });
    await t.step("pfsyncd watch prints events, then exits 1 when the agent goes", async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--no-check", MAIN, "watch", "--control", temp.path],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (text.split("\n").length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await server.close();
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      const status = await child.status;
      const stderr = await new Response(child.stderr).text();
      assertStringIncludes(text, "carp: 1@eth1: BACKUP -> MASTER (master timed out)");
      assertStringIncludes(text, "insert (from 192.0.2.2): all tcp 192.0.2.10:1234");
      assertEquals(status.code, 1);
      assertStringIncludes(stderr, "closed the control connection");
    });
  } finally {
    await server.close();
    await temp.cleanup();
  }
});

Deno.test("pfsyncd client commands: no agent → exit 1 naming the socket and 'pfsyncd run'", async (t) => {
  const temp = await tempSocketPath();
  try {
    for (const args of CLIENT_COMMANDS) {
      await t.step(`pfsyncd ${args.join(" ")}`, async () => {
        const out = await cli([...args, "--control", temp.path], "");
        assertEquals(out.code, 1, out.stderr);
        assertStringIncludes(out.stderr, temp.path);
        assertStringIncludes(out.stderr, "pfsyncd run");
      });
    }
  } finally {
    await temp.cleanup();
  }
});

Deno.test("pfsyncd client commands: --help shows --control and an example", async (t) => {
  for (const args of CLIENT_COMMANDS) {
    const words = args.filter((arg) => /^[a-z]+$/.test(arg) && arg !== "on");
    await t.step(`pfsyncd ${words.join(" ")} --help`, async () => {
      const out = await cli([...words, "--help"]);
      assertEquals(out.code, 0);
      assertStringIncludes(out.stdout, "--control <path>");
      assertMatch(out.stdout, /Examples?:\n {2}pfsyncd /);
    });
  }
});
