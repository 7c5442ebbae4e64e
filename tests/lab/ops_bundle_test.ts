/**
 * The shipped artifact is the tested one (issue 7, packaging): the bundle
 * `dist/pfsyncd.js` (CI builds it with `deno task bundle` before the tests)
 * runs in a namespace with exactly the permission flags of rc/deno-flags,
 * becomes MASTER and answers `status` through the bundle's own CLI. Outside
 * CI a missing bundle skips the test and says why; under CI=true it is built.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { callAgent } from "../../lib/control/client.ts";
import { carpYaml } from "./agent.ts";
import { carpLan, LAN_PREFIX, VIP } from "./fixtures/carp_peers.ts";
import { labTest, runCommand, waitFor } from "./lab.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const BUNDLE = `${ROOT}dist/pfsyncd.js`;
const CI = Deno.env.get("CI") === "true";

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Newest modification time of main.ts and lib/**; a bundle older than that is stale. */
async function newestSource(dir = `${ROOT}lib`): Promise<number> {
  let newest = (await Deno.stat(`${ROOT}main.ts`)).mtime?.getTime() ?? 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) newest = Math.max(newest, await newestSource(path));
    else newest = Math.max(newest, (await Deno.stat(path)).mtime?.getTime() ?? 0);
  }
  return newest;
}

/** What `deno task bundle` does, written next to the bundle and renamed into place. */
async function buildBundle(): Promise<void> {
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  const tmp = `${ROOT}dist/.pfsyncd-${Deno.pid}.js`; // a .js name: deno bundle picks ESM by it
  const built = await runCommand(
    [
      Deno.execPath(),
      "bundle",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      "--output",
      tmp,
      `${ROOT}main.ts`,
    ],
    { timeoutMs: 120_000 },
  );
  if (!built.success) throw new Error(`deno bundle failed:\n${built.stderr}`);
  await Deno.rename(tmp, BUNDLE);
}

/** Missing (under CI) or stale (sources changed since it was built): build it now. */
async function ensureBundle(): Promise<void> {
  if (await exists(BUNDLE)) {
    const built = (await Deno.stat(BUNDLE)).mtime?.getTime() ?? 0;
    if (built >= await newestSource()) return;
  }
  await buildBundle();
}

// Outside CI a missing bundle skips the test; under CI it is built.
const haveBundle = CI || await exists(BUNDLE);
const flags = (await Deno.readTextFile(`${ROOT}rc/deno-flags`)).trim().split(/\s+/);

labTest(
  haveBundle
    ? "ops: the bundle dist/pfsyncd.js runs with rc/deno-flags, becomes MASTER, answers status"
    : "ops: the bundle (skipped: dist/pfsyncd.js missing; run 'deno task bundle')",
  async (lab) => {
    if (!haveBundle) return;
    await ensureBundle();
    const net = await carpLan(lab, { client: false });
    const control = lab.tempPath("bundle.sock");
    const yamlPath = lab.tempPath("bundle.yaml");
    await Deno.writeTextFile(
      yamlPath,
      carpYaml(1, [{
        vhid: 1,
        parent: "eth0",
        pass: "bundle",
        addresses: [`${VIP}/${LAN_PREFIX}`],
      }]) +
        `control: ${control}\npidfile: ${lab.tempPath("bundle.pid")}\n`,
    );
    const deno = [Deno.execPath(), "run", ...flags, BUNDLE];
    const agent = net.fw1.spawn([
      ...deno,
      "run",
      "-c",
      yamlPath,
      "-f",
      "/dev/null",
      "--state-dir",
      lab.tempPath("bundle.state"),
    ], { label: "bundle" });
    await waitFor(async () => {
      if (agent.exited) return true;
      try {
        return (await callAgent(control, "status", {})).carp[0]?.state === "MASTER";
      } catch {
        return false;
      }
    }, { timeoutMs: 20_000, message: "the bundled agent becomes MASTER" });
    assertEquals(agent.exited, false, `the bundle exited:\n${agent.output().stderr}`);

    const status = await net.fw1.run([...deno, "status", "--control", control]);
    assertEquals(status.code, 0, status.stderr);
    assertMatch(status.stdout, /eth0: carp: MASTER vhid 1 advbase 1 advskew 0/);
    assertStringIncludes(status.stdout, `inet ${VIP}/${LAN_PREFIX}`);
    assertStringIncludes((await net.fw1.addresses("eth0")).join(" "), `${VIP}/${LAN_PREFIX}`);

    // A graceful stop through the bundle's signal handling removes the VIP.
    assertEquals((await agent.stop(5_000)).code, 0);
    assertEquals((await net.fw1.addresses("eth0")).includes(`${VIP}/${LAN_PREFIX}`), false);
  },
  { timeoutMs: 45_000 },
);
