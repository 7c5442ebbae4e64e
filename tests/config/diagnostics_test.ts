import { type Diagnostic, formatDiagnostic } from "../../lib/config/diagnostics.ts";
import { assertEquals } from "../helpers/assert.ts";

const TEXT = 'a=1\nifconfig_carp0="vhid 300 pass x"\n\tb=2';

// (diagnostic, source text, exact output)
const CASES: [string, Diagnostic, string | undefined, string][] = [
  [
    "caret under the column",
    {
      file: "rc.conf",
      line: 2,
      column: 22,
      severity: "error",
      message: "vhid must be a number from 1 to 255, not '300'",
    },
    TEXT,
    "rc.conf:2:22: error: vhid must be a number from 1 to 255, not '300'\n" +
    'ifconfig_carp0="vhid 300 pass x"\n' +
    "                     ^",
  ],
  [
    "underline of the word length",
    {
      file: "rc.conf",
      line: 2,
      column: 22,
      severity: "error",
      message: "m",
      length: 3,
    },
    TEXT,
    'rc.conf:2:22: error: m\nifconfig_carp0="vhid 300 pass x"\n                     ^~~',
  ],
  [
    "tabs kept for alignment",
    {
      file: "f",
      line: 3,
      column: 2,
      severity: "warning",
      message: "w",
    },
    TEXT,
    "f:3:2: warning: w\n\tb=2\n\t^",
  ],
  [
    "without source text",
    {
      file: "f",
      line: 1,
      column: 1,
      severity: "warning",
      message: "w",
    },
    undefined,
    "f:1:1: warning: w",
  ],
  [
    "whole-file problem",
    {
      file: "/etc/x",
      line: 0,
      column: 0,
      severity: "error",
      message: "cannot read /etc/x: no such file",
    },
    TEXT,
    "/etc/x: error: cannot read /etc/x: no such file",
  ],
];

for (const [name, d, text, expected] of CASES) {
  Deno.test(`formatDiagnostic() ${name}`, () => {
    assertEquals(formatDiagnostic(d, text), expected);
  });
}
