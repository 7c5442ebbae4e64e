import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";

const rcDir = new URL("../../rc/", import.meta.url).pathname;

async function run(cmd: string[]): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder();
  return { code: result.code, output: text.decode(result.stdout) + text.decode(result.stderr) };
}

function have(tool: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

for (const script of ["rc.d/pfsyncd", "openrc/pfsyncd"]) {
  Deno.test(`${script} parses under sh -n`, async () => {
    const { code, output } = await run(["sh", "-n", rcDir + script]);
    assertEquals(code, 0, output);
  });
}

Deno.test("service scripts take their deno flags from rc/deno-flags", async () => {
  const flags = (await Deno.readTextFile(rcDir + "deno-flags")).trim();
  assertStringIncludes(flags, "--allow-ffi");
  for (const file of ["rc.d/pfsyncd", "openrc/pfsyncd", "systemd/pfsyncd.service"]) {
    assertStringIncludes(await Deno.readTextFile(rcDir + file), "deno-flags", file);
  }
  const denoJson = await Deno.readTextFile(new URL("../../deno.json", import.meta.url));
  for (const task of ["run", "compile"]) {
    const line = denoJson.split("\n").find((l) => l.trim().startsWith(`"${task}":`));
    assert(line?.includes("rc/deno-flags"), `task ${task} must read rc/deno-flags`);
  }
});

Deno.test({
  name: "systemd unit passes systemd-analyze verify",
  ignore: !have("systemd-analyze") && Deno.env.get("CI") !== "true",
  async fn() {
    const { code, output } = await run([
      "systemd-analyze",
      "verify",
      rcDir + "systemd/pfsyncd.service",
    ]);
    assertEquals(code, 0, output);
  },
});
