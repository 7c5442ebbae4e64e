import { DiagnosticSink } from "../../lib/config/diagnostics.ts";
import { emptyLayer } from "../../lib/config/model.ts";
import { parseSysctlConf } from "../../lib/config/sysctl.ts";
import { assertEquals } from "../helpers/assert.ts";
import { brief } from "./helpers.ts";

function parse(text: string) {
  const sink = new DiagnosticSink();
  const layer = emptyLayer("sysctl.conf");
  parseSysctlConf(text, "sysctl.conf", layer, sink);
  const settings = Object.fromEntries(
    Object.entries(layer.settings).map(([k, v]) => [k, v!.value]),
  );
  return { settings, diagnostics: sink.items.map(brief) };
}

// (name, sysctl.conf, settings, exact diagnostics)
const CASES: [string, string, Record<string, unknown>, string[]][] = [
  ["allow and preempt", "net.inet.carp.allow=0\nnet.inet.carp.preempt=1", {
    "sysctl.allow": false,
    "sysctl.preempt": true,
  }, []],
  ["log level", "net.inet.carp.log=2", { "sysctl.log": 2 }, []],
  [
    "10+ demotion knobs",
    "net.inet.carp.demotion=10\nnet.inet.carp.senderr_demotion_factor=240\n" +
    "net.inet.carp.ifdown_demotion_factor=100",
    {
      "sysctl.demotion": 10,
      "sysctl.senderrDemotionFactor": 240,
      "sysctl.ifdownDemotionFactor": 100,
    },
    [],
  ],
  ["comments, blanks, Linux spacing", "# c\n\n  net.inet.carp.preempt = 1 # on\n; linux comment", {
    "sysctl.preempt": true,
  }, []],
  ["other sysctls are ignored", "kern.ipc.somaxconn=1024\nnet.ipv4.ip_forward=1", {}, []],
  ["later line wins", "net.inet.carp.log=0\nnet.inet.carp.log=1", { "sysctl.log": 1 }, []],
  ["arpbalance warns", "net.inet.carp.arpbalance=1", {}, [
    "sysctl.conf:1:1 warning: net.inet.carp.arpbalance: ARP load balancing (arpbalance) is not " +
    "supported; ignored",
  ]],
  ["suppress_preempt is read-only", "net.inet.carp.suppress_preempt=0", {}, [
    "sysctl.conf:1:1 warning: net.inet.carp.suppress_preempt: suppress_preempt is read-only; ignored",
  ]],
  ["unknown carp sysctl", "  net.inet.carp.premept=1", {}, [
    "sysctl.conf:1:3 warning: unknown sysctl 'net.inet.carp.premept' ignored",
  ]],
  ["flag out of range", "net.inet.carp.preempt=2", {}, [
    "sysctl.conf:1:23 error: net.inet.carp.preempt must be 0 or 1, not 2",
  ]],
  ["not a number", "net.inet.carp.log=yes", {}, [
    "sysctl.conf:1:19 error: net.inet.carp.log needs an integer, not 'yes'",
  ]],
  ["negative log", "net.inet.carp.log=-1", {}, [
    "sysctl.conf:1:19 error: net.inet.carp.log cannot be negative (-1)",
  ]],
  ["demotion clamped", "net.inet.carp.demotion=300", { "sysctl.demotion": 240 }, [
    "sysctl.conf:1:24 warning: net.inet.carp.demotion 300 is clamped to 240 by the kernel",
  ]],
  ["negative factor", "net.inet.carp.ifdown_demotion_factor=-5", {}, [
    "sysctl.conf:1:38 error: a demotion factor cannot be negative (-5)",
  ]],
  ["missing =", "\nnet.inet.carp.preempt 1", {}, [
    "sysctl.conf:2:1 error: expected 'name=value'",
  ]],
];

for (const [name, text, settings, diagnostics] of CASES) {
  Deno.test(`parseSysctlConf() ${name}`, () => {
    const result = parse(text);
    assertEquals(result.diagnostics, diagnostics);
    assertEquals(result.settings, settings);
  });
}
