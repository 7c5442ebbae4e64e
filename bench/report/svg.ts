/**
 * Minimal hand-written SVG charts for bench/RESULTS.md: a line chart (state
 * counts over time) and a lane timeline (failover: adverts, the kill, the
 * master-down interval). Pure string building — no I/O, no dependencies.
 * Coordinates are rounded to 0.1 px so the files stay small and diff well.
 */

export type Point = readonly [number, number];

export interface Axis {
  readonly label: string;
  /** Domain; taken from the data when absent. */
  readonly min?: number;
  readonly max?: number;
}

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
  /** SVG stroke-dasharray, e.g. "4 3". */
  readonly dash?: string;
}

/** Escapes text for SVG content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** A linear map from [d0, d1] onto [r0, r1]; a zero-width domain maps to r0. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 ? r0 : r0 + ((v - d0) / span) * (r1 - r0));
}

/** Round tick values (1, 2, 5 × 10ⁿ steps) covering [min, max], at most about `count`. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9) * step;
  for (let v = first; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)) + 0); // + 0 turns −0 into 0
  }
  return ticks;
}

/** Short tick label: 1500000 → "1.5M", 20000 → "20k", 0.25 → "0.25". */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number) => String(Number(x.toPrecision(3)));
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return trim(v);
}

const r1 = (v: number) => String(Math.round(v * 10) / 10);

const FONT = 'font-family="sans-serif" font-size="12"';

function open(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${r1(width / 2)}" y="20" text-anchor="middle" font-size="14" ` +
    `font-weight="bold">${esc(title)}</text>`,
  ];
}

function extent(values: readonly number[], min?: number, max?: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  const lo = min ?? (finite.length ? Math.min(...finite) : 0);
  const hi = max ?? (finite.length ? Math.max(...finite) : 1);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

export interface LineChartOptions {
  readonly title: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly LineSeries[];
  readonly width?: number;
  readonly height?: number;
  /** Lines of small print under the chart. */
  readonly notes?: readonly string[];
}

/** A line chart with axes, grid, ticks and a legend (top left, inside the plot). */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 720;
  const notes = o.notes ?? [];
  const height = (o.height ?? 360) + notes.length * 16;
  const m = { left: 64, right: 20, top: 34, bottom: 46 + notes.length * 16 };
  const [x0, x1] = extent(o.series.flatMap((s) => s.points.map((p) => p[0])), o.x.min, o.x.max);
  const [y0, y1] = extent(o.series.flatMap((s) => s.points.map((p) => p[1])), o.y.min, o.y.max);
  const px = scale(x0, x1, m.left, width - m.right);
  const py = scale(y0, y1, height - m.bottom, m.top);
  const out = open(width, height, o.title);
  for (const t of niceTicks(x0, x1, 8)) {
    out.push(
      `<line x1="${r1(px(t))}" y1="${m.top}" x2="${r1(px(t))}" y2="${
        height - m.bottom
      }" stroke="#e6e6e6"/>`,
      `<text x="${r1(px(t))}" y="${height - m.bottom + 16}" text-anchor="middle">${
        esc(tickLabel(t))
      }</text>`,
    );
  }
  for (const t of niceTicks(y0, y1, 6)) {
    out.push(
      `<line x1="${m.left}" y1="${r1(py(t))}" x2="${width - m.right}" y2="${
        r1(py(t))
      }" stroke="#e6e6e6"/>`,
      `<text x="${m.left - 6}" y="${r1(py(t) + 4)}" text-anchor="end">${esc(tickLabel(t))}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${
      height - m.top - m.bottom
    }" fill="none" stroke="#444444"/>`,
    `<text x="${r1((m.left + width - m.right) / 2)}" y="${
      height - m.bottom + 34
    }" text-anchor="middle">${esc(o.x.label)}</text>`,
    `<text transform="translate(16 ${
      r1((m.top + height - m.bottom) / 2)
    }) rotate(-90)" text-anchor="middle">${esc(o.y.label)}</text>`,
  );
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([x, y]) => `${r1(px(x))},${r1(py(y))}`).join(" ");
    out.push(
      `<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${
        s.dash ? ` stroke-dasharray="${s.dash}"` : ""
      }><title>${esc(s.name)}</title></polyline>`,
    );
  }
  o.series.forEach((s, i) => {
    const y = m.top + 16 + i * 18;
    out.push(
      `<line x1="${m.left + 10}" y1="${y - 4}" x2="${m.left + 34}" y2="${
        y - 4
      }" stroke="${s.color}" ` +
        `stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
      `<text x="${m.left + 40}" y="${y}">${esc(s.name)}</text>`,
    );
  });
  notes.forEach((n, i) => {
    out.push(
      `<text x="${m.left}" y="${height - notes.length * 16 + i * 16 + 4}" font-size="11" ` +
        `fill="#555555">${esc(n)}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}

/** A point event on a lane: an advertisement, a signal. */
export interface Mark {
  readonly t: number;
  readonly color: string;
  readonly shape: "tick" | "dot" | "diamond";
  readonly title?: string;
}

/** A shaded interval on a lane. */
export interface Band {
  readonly from: number;
  readonly to: number;
  readonly color: string;
  readonly title?: string;
}

export interface Lane {
  readonly label: string;
  readonly bands: readonly Band[];
  readonly marks: readonly Mark[];
  /** Printed at the right end of the lane (e.g. the measured time). */
  readonly note?: string;
}

export interface LaneGroup {
  readonly title: string;
  readonly lanes: readonly Lane[];
}

export interface LegendItem {
  readonly label: string;
  readonly color: string;
  readonly shape: Mark["shape"] | "band";
}

export interface TimelineOptions {
  readonly title: string;
  readonly x: Axis;
  readonly groups: readonly LaneGroup[];
  readonly legend: readonly LegendItem[];
  /** Vertical rules across every lane (e.g. the signal at t = 0). */
  readonly rules?: readonly { readonly t: number; readonly label: string }[];
  readonly width?: number;
}

function markSvg(shape: Mark["shape"] | "band", x: number, y: number, color: string): string {
  switch (shape) {
    case "tick":
      return `<line x1="${r1(x)}" y1="${r1(y - 8)}" x2="${r1(x)}" y2="${
        r1(y + 8)
      }" stroke="${color}" stroke-width="2"/>`;
    case "dot":
      return `<circle cx="${r1(x)}" cy="${r1(y)}" r="5" fill="${color}"/>`;
    case "diamond":
      return `<path d="M${r1(x)} ${r1(y - 7)}L${r1(x + 7)} ${r1(y)}L${r1(x)} ${r1(y + 7)}L${
        r1(x - 7)
      } ${r1(y)}Z" fill="${color}"/>`;
    case "band":
      return `<rect x="${r1(x - 8)}" y="${r1(y - 6)}" width="16" height="12" fill="${color}"/>`;
  }
}

/** Lanes of events over a shared time axis, in titled groups, with a legend under the axis. */
export function timelineChart(o: TimelineOptions): string {
  const width = o.width ?? 900;
  const laneH = 30;
  const m = { left: 120, right: 140, top: 34 };
  const laneCount = o.groups.reduce((n, g) => n + g.lanes.length, 0);
  const plotH = o.groups.length * 22 + laneCount * laneH;
  const height = m.top + plotH + 48 + 22 * Math.ceil(o.legend.length / 3);
  const all = o.groups.flatMap((g) =>
    g.lanes.flatMap((l) => [...l.marks.map((k) => k.t), ...l.bands.flatMap((b) => [b.from, b.to])])
  );
  const [x0, x1] = extent(all, o.x.min, o.x.max);
  const px = scale(x0, x1, m.left, width - m.right);
  const clamp = (v: number) => Math.min(width - m.right, Math.max(m.left, px(v)));
  const out = open(width, height, o.title);
  const bottom = m.top + plotH;
  for (const t of niceTicks(x0, x1, 10)) {
    out.push(
      `<line x1="${r1(px(t))}" y1="${m.top}" x2="${r1(px(t))}" y2="${bottom}" stroke="#e6e6e6"/>`,
      `<text x="${r1(px(t))}" y="${bottom + 16}" text-anchor="middle">${esc(tickLabel(t))}</text>`,
    );
  }
  out.push(
    `<text x="${r1((m.left + width - m.right) / 2)}" y="${bottom + 34}" text-anchor="middle">${
      esc(o.x.label)
    }</text>`,
  );
  let y = m.top;
  for (const g of o.groups) {
    out.push(`<text x="8" y="${y + 15}" font-weight="bold">${esc(g.title)}</text>`);
    y += 22;
    for (const lane of g.lanes) {
      const cy = y + laneH / 2;
      out.push(
        `<line x1="${m.left}" y1="${cy}" x2="${width - m.right}" y2="${cy}" stroke="#bbbbbb"/>`,
        `<text x="${m.left - 8}" y="${cy + 4}" text-anchor="end">${esc(lane.label)}</text>`,
      );
      for (const b of lane.bands) {
        const bx0 = clamp(b.from);
        const bx1 = clamp(b.to);
        out.push(
          `<rect x="${r1(bx0)}" y="${cy - 10}" width="${r1(Math.max(0, bx1 - bx0))}" ` +
            `height="20" fill="${b.color}">${
              b.title ? `<title>${esc(b.title)}</title>` : ""
            }</rect>`,
        );
      }
      for (const k of lane.marks) {
        if (k.t < x0 || k.t > x1) continue;
        const svg = markSvg(k.shape, px(k.t), cy, k.color);
        out.push(k.title ? `<g><title>${esc(k.title)}</title>${svg}</g>` : svg);
      }
      if (lane.note) {
        out.push(`<text x="${width - m.right + 8}" y="${cy + 4}">${esc(lane.note)}</text>`);
      }
      y += laneH;
    }
  }
  for (const rule of o.rules ?? []) {
    if (rule.t < x0 || rule.t > x1) continue;
    out.push(
      `<line x1="${r1(px(rule.t))}" y1="${m.top}" x2="${r1(px(rule.t))}" y2="${bottom}" ` +
        `stroke="#000000" stroke-dasharray="5 3"/>`,
      `<text x="${r1(px(rule.t) + 4)}" y="${m.top + 12}" font-size="11">${esc(rule.label)}</text>`,
    );
  }
  o.legend.forEach((item, i) => {
    const lx = 20 + (i % 3) * 280;
    const ly = bottom + 58 + Math.floor(i / 3) * 22;
    out.push(
      markSvg(item.shape, lx + 8, ly - 4, item.color),
      `<text x="${lx + 22}" y="${ly}">${esc(item.label)}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}
