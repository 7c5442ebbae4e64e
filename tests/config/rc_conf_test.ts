import { DiagnosticSink } from "../../lib/config/diagnostics.ts";
import { parseRcConf, type RcVariables, splitWords } from "../../lib/config/rc_conf.ts";
import { assertEquals } from "../helpers/assert.ts";
import { brief } from "./helpers.ts";

function parse(text: string, vars: RcVariables = new Map()) {
  const sink = new DiagnosticSink();
  const assignments = parseRcConf(text, "rc.conf", vars, sink);
  return {
    values: Object.fromEntries(assignments.map((a) => [a.name, a.value])),
    diagnostics: sink.items.map(brief),
  };
}

// (rc.conf text, variables it sets) — constructs that must parse without diagnostics.
const GOOD: [string, string, Record<string, string>][] = [
  ["plain word", "a=1", { a: "1" }],
  ["empty value", "a=", { a: "" }],
  ["several on one line", "a=1 b=2\tc=3", { a: "1", b: "2", c: "3" }],
  ["semicolons", "a=1;b=2 ; c=3", { a: "1", b: "2", c: "3" }],
  ["single quotes keep $ and \\", "a='x $y \\z'", { a: "x $y \\z" }],
  ["double quotes", 'a="two words"', { a: "two words" }],
  ["double-quote escapes", 'a="q\\" b\\\\ d\\$x"', { a: 'q" b\\ d$x' }],
  ["other backslashes stay in double quotes", 'a="\\n"', { a: "\\n" }],
  ["unquoted backslash escapes", "a=x\\ y", { a: "x y" }],
  ["comment line and trailing comment", "# c\na=1 # trailing\n", { a: "1" }],
  ["hash inside a word is literal", "a=x#y", { a: "x#y" }],
  ["backslash-newline continuation", "a=ab\\\ncd", { a: "abcd" }],
  ["continuation inside double quotes", 'a="ab\\\ncd"', { a: "abcd" }],
  ["newline inside quotes is kept", 'a="x\ny"', { a: "x\ny" }],
  ["$name", "a=1\nb=$a-x", { a: "1", b: "1-x" }],
  ["${name}", "a=1\nb=${a}x", { a: "1", b: "1x" }],
  ["undefined expands to nothing", "b=[$nope]", { b: "[]" }],
  ["${name:-default} unset", 'b=${nope:-"d f"}', { b: "d f" }],
  ["${name:-default} empty", "a=\nb=${a:-d}", { a: "", b: "d" }],
  ["${name:-default} set", "a=1\nb=${a:-d}", { a: "1", b: "1" }],
  ["${name-default} keeps empty", "a=\nb=${a-d}", { a: "", b: "" }],
  ["nested default", "a=1\nb=${x:-${a}2}", { a: "1", b: "12" }],
  ["expansion in double quotes", 'a=1\nb="<$a ${a}>"', { a: "1", b: "<1 1>" }],
  ["lone dollar is literal", "a=x$ b=$", { a: "x$", b: "$" }],
  ["later assignment wins", "a=1\na=2", { a: "2" }],
  ["CRLF line ends", "a=1\r\nb=2\r\n", { a: "1", b: "2" }],
];

for (const [name, text, expected] of GOOD) {
  Deno.test(`parseRcConf() ${name}`, () => {
    const { values, diagnostics } = parse(text);
    assertEquals(diagnostics, []);
    assertEquals(values, expected);
  });
}

// (rc.conf text, variables still set, exact diagnostics)
const BAD: [string, string, Record<string, string>, string[]][] = [
  [
    "if block setting a read variable",
    'if [ -x /x ]; then\n  ifconfig_em0="up"\nfi\nb=1',
    { b: "1" },
    [
      "rc.conf:1:1 error: unsupported shell construct: 'if'; pfsyncd cannot tell what it sets " +
      "'ifconfig_em0' to",
    ],
  ],
  [
    "for loop setting other variables",
    "for i in 1 2; do\n  x=$i\ndone\nb=1",
    { b: "1" },
    ["rc.conf:1:1 warning: unsupported shell construct: 'for'; ignored (pfsyncd never runs shell code)"],
  ],
  [
    "case block",
    'case x in\n  a) pfsync_enable="YES" ;;\nesac',
    {},
    [
      "rc.conf:1:1 error: unsupported shell construct: 'case'; pfsyncd cannot tell what it sets " +
      "'pfsync_enable' to",
    ],
  ],
  [
    "function definition",
    "f() {\n  y=1\n}\nb=2",
    { b: "2" },
    [
      "rc.conf:1:1 warning: unsupported shell construct: function definition; ignored " +
      "(pfsyncd never runs shell code)",
    ],
  ],
  [
    "dot source",
    "  . /etc/rc.conf.d/x\nb=1",
    { b: "1" },
    [
      "rc.conf:1:3 warning: unsupported shell construct: '.' (sourced files are not read; pass " +
      "them with -f); ignored (pfsyncd never runs shell code)",
    ],
  ],
  [
    "source keyword",
    "source /x",
    {},
    [
      "rc.conf:1:1 warning: unsupported shell construct: 'source' (sourced files are not read; " +
      "pass them with -f); ignored (pfsyncd never runs shell code)",
    ],
  ],
  [
    "$(...) in a read variable",
    "a=1 ifconfig_em0=$(echo up) b=2",
    { a: "1", b: "2" },
    [
      "rc.conf:1:18 error: unsupported shell construct: command substitution $(...); pfsyncd " +
      "cannot tell what it sets 'ifconfig_em0' to",
    ],
  ],
  [
    "backticks in another variable",
    'x="`hostname`"',
    {},
    [
      "rc.conf:1:4 warning: unsupported shell construct: command substitution `...`; ignored " +
      "(pfsyncd never runs shell code)",
    ],
  ],
  [
    "other parameter expansion",
    "pfsync_syncdev=${dev%0}",
    {},
    [
      "rc.conf:1:16 error: unsupported shell construct: parameter expansion ${...}; pfsyncd " +
      "cannot tell what it sets 'pfsync_syncdev' to",
    ],
  ],
  [
    "special parameter",
    "x=$1",
    {},
    [
      "rc.conf:1:3 warning: unsupported shell construct: special parameter $1; ignored " +
      "(pfsyncd never runs shell code)",
    ],
  ],
  [
    "command after an assignment",
    "ifconfig_em0=up echo hi\nb=1",
    { b: "1" },
    [
      "rc.conf:1:17 error: unsupported shell construct: command 'echo'; pfsyncd cannot tell " +
      "what it sets 'ifconfig_em0' to",
    ],
  ],
  [
    "pipe",
    "a=1 | cat",
    {},
    [
      "rc.conf:1:5 warning: unsupported shell construct: command '|'; ignored (pfsyncd never " +
      "runs shell code)",
    ],
  ],
  [
    "unterminated double quote",
    'a=1\nifconfig_em0="inet 192.0.2.1',
    { a: "1" },
    ["rc.conf:2:14 error: unterminated double quote; sh would reject this file"],
  ],
  [
    "unterminated single quote",
    "b='x",
    {},
    ["rc.conf:1:3 error: unterminated single quote; sh would reject this file"],
  ],
  [
    "unterminated ${",
    "b=${a:-x",
    {},
    ["rc.conf:1:3 error: unterminated ${; sh would reject this file"],
  ],
];

for (const [name, text, expected, diagnostics] of BAD) {
  Deno.test(`parseRcConf() reports ${name}`, () => {
    const result = parse(text);
    assertEquals(result.diagnostics, diagnostics);
    assertEquals(result.values, expected);
  });
}

Deno.test("parseRcConf() expands against variables of earlier files", () => {
  const vars: RcVariables = new Map();
  parse("dev=em2", vars);
  assertEquals(parse("pfsync_syncdev=$dev", vars).values, { pfsync_syncdev: "em2" });
});

Deno.test("parseRcConf() keeps the position of every value character", () => {
  const vars: RcVariables = new Map();
  parseRcConf('x=ab\n  y="1 \\\n  $x  22"', "f", vars, new DiagnosticSink());
  const y = vars.get("y")!;
  assertEquals(y.source, { file: "f", line: 2, column: 3 });
  assertEquals(
    splitWords(y).map((w) => `${w.text}@${w.source.line}:${w.source.column}/${w.length}`),
    ["1@2:6/1", "ab@3:3/1", "22@3:7/2"],
  );
});
