import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import {
  esc,
  lineChart,
  niceTicks,
  scale,
  tickLabel,
  timelineChart,
} from "../../bench/report/svg.ts";

/** Asserts that every element opened in `svg` is closed, in order (no XML parser in Deno). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assertEquals(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name);
  }
  assertEquals(stack, [], "elements left open");
}

/** The numbers of one attribute of the first element matching `tag` that has it. */
function attr(svg: string, tag: string, name: string, nth = 0): string {
  const els = [...svg.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${name}="([^"]*)"`, "g"))];
  assert(els.length > nth, `no <${tag} ${name}> #${nth}`);
  return els[nth][1];
}

Deno.test("scale() maps the domain linearly onto the range, also reversed", () => {
  const f = scale(0, 10, 100, 200);
  assertEquals([f(0), f(5), f(10), f(-10)], [100, 150, 200, 0]);
  const g = scale(0, 4, 300, 100); // y axes grow upwards
  assertEquals([g(0), g(1), g(4)], [300, 250, 100]);
  assertEquals(scale(3, 3, 7, 9)(100), 7);
});

Deno.test("niceTicks() steps by 1, 2 or 5 × 10ⁿ and stays inside the domain", () => {
  assertEquals(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assertEquals(niceTicks(0, 1_000_000, 4), [0, 500_000, 1_000_000]);
  assertEquals(niceTicks(-2, 5, 7), [-2, -1, 0, 1, 2, 3, 4, 5]);
  assertEquals(niceTicks(0.003, 0.0041, 4), [0.003, 0.0035, 0.004]);
  assertEquals(niceTicks(5, 5), [5]);
  assertEquals(niceTicks(NaN, 1), []);
  assertEquals(niceTicks(10, 0, 5), [0, 2, 4, 6, 8, 10]);
  assert(!Object.is(niceTicks(-1, 1, 2)[1], -0), "no negative zero");
});

Deno.test("tickLabel() shortens thousands and millions", () => {
  assertEquals(
    [1_500_000, 20_000, 2_500, 0.25, -2, 0].map(tickLabel),
    ["1.5M", "20k", "2500", "0.25", "-2", "0"],
  );
});

Deno.test("esc() escapes markup in text and attributes", () => {
  assertEquals(esc(`a<b & "c">`), "a&lt;b &amp; &quot;c&quot;&gt;");
});

Deno.test("lineChart() draws each series at its scaled coordinates, with a legend", () => {
  const svg = lineChart({
    title: "states <on> B",
    x: { label: "seconds", min: 0, max: 10 },
    y: { label: "states", min: 0, max: 100 },
    series: [
      { name: "pfsyncd", color: "#1f77b4", points: [[0, 0], [5, 50], [10, 100]] },
      { name: "conntrackd", color: "#d62728", points: [[0, 0], [10, 25]], dash: "4 3" },
      { name: "empty", color: "#000000", points: [] },
    ],
    width: 720,
    height: 360,
  });
  assertBalanced(svg);
  assert(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assertStringIncludes(svg, "<title>states &lt;on&gt; B</title>");
  // Plot area: x 64..700, y 34..314 (margins left 64, right 20, top 34, bottom 46).
  assertEquals(attr(svg, "polyline", "points", 0), "64,314 382,174 700,34");
  assertEquals(attr(svg, "polyline", "points", 1), "64,314 700,244");
  assertStringIncludes(svg, 'stroke-dasharray="4 3"');
  assertEquals([...svg.matchAll(/<polyline/g)].length, 2, "an empty series draws no line");
  for (const name of ["pfsyncd", "conntrackd", "seconds", "states"]) {
    assertStringIncludes(svg, `>${name}</text>`);
  }
  for (const tick of ["0", "2", "10", "60", "100"]) assertStringIncludes(svg, `>${tick}</text>`);
});

Deno.test("lineChart() takes its domain from the data when the axes give none", () => {
  const svg = lineChart({
    title: "t",
    x: { label: "x" },
    y: { label: "y" },
    series: [{ name: "s", color: "#000000", points: [[2, 10], [4, 30]] }],
  });
  assertEquals(attr(svg, "polyline", "points"), "64,314 700,34");
});

Deno.test("timelineChart() places bands, marks and rules on a shared time axis", () => {
  const svg = timelineChart({
    title: "Failover",
    x: { label: "seconds after the signal", min: -1, max: 4 },
    groups: [
      {
        title: "SIGKILL",
        lanes: [{
          label: "pfsyncd",
          bands: [{ from: -0.5, to: 2.5, color: "#fdd49e", title: "master-down" }],
          marks: [
            { t: -0.5, color: "#1f77b4", shape: "tick" },
            { t: 2.5, color: "#d62728", shape: "diamond", title: "takeover" },
            { t: 9, color: "#d62728", shape: "tick" }, // outside the axis: not drawn
          ],
          note: "2.500 s",
        }],
      },
      {
        title: "SIGTERM",
        lanes: [{ label: "ucarp", bands: [], marks: [{ t: 0.5, color: "#1f77b4", shape: "dot" }] }],
      },
    ],
    rules: [{ t: 0, label: "signal" }],
    legend: [{ label: "master-down interval", color: "#fdd49e", shape: "band" }],
    width: 860,
  });
  assertBalanced(svg);
  // Axis: x 120..720 for −1..4 s (margins 120 / 140 of 860), i.e. 120 px per second.
  assertStringIncludes(svg, '<rect x="180" y="61" width="360" height="20" fill="#fdd49e">');
  assertStringIncludes(svg, '<line x1="180" y1="63" x2="180" y2="79" stroke="#1f77b4"');
  assertStringIncludes(svg, '<path d="M540 64L547 71L540 78L533 71Z" fill="#d62728"/>');
  assertStringIncludes(svg, '<circle cx="300" cy="123" r="5" fill="#1f77b4"/>');
  assertStringIncludes(svg, '<line x1="240" y1="34" x2="240"');
  assertStringIncludes(svg, ">signal</text>");
  assertStringIncludes(svg, ">2.500 s</text>");
  assertStringIncludes(svg, ">SIGKILL</text>");
  assertStringIncludes(svg, ">SIGTERM</text>");
  assertEquals(
    [...svg.matchAll(/stroke="#d62728"/g)].length,
    0,
    "the out-of-range tick is dropped",
  );
});
