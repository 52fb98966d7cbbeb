/**
 * @module Two small inline-SVG charts for the HTML report (no script, no
 * external file): horizontal bars with min–max whiskers, and lines over
 * time. Values are plain numbers; labels are escaped.
 */
import { si } from "./format.ts";

export const PALETTE = [
  "#2563eb",
  "#dc2626",
  "#16a34a",
  "#9333ea",
  "#ea580c",
  "#0891b2",
  "#ca8a04",
  "#db2777",
  "#4b5563",
];

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly color?: string;
  /** Text after the bar (default: the value). */
  readonly note?: string;
}

/** Horizontal bars, one per item, scaled to the largest value (or max). */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const shown = bars.filter((b) => Number.isFinite(b.value));
  if (shown.length === 0) return "";
  const labelW = Math.min(260, 8 + 7 * Math.max(...shown.map((b) => b.label.length)));
  const plotW = 420;
  const rowH = 22;
  const w = labelW + plotW + 150;
  const h = 30 + shown.length * rowH + 10;
  const top = Math.max(...shown.map((b) => Math.max(b.value, b.max ?? 0))) || 1;
  const x = (v: number) => labelW + (v / top) * plotW;
  const parts = [`<text x="0" y="16" class="t">${esc(title)}${unit ? ` (${esc(unit)})` : ""}</text>`];
  shown.forEach((b, i) => {
    const y = 30 + i * rowH;
    const color = b.color ?? PALETTE[i % PALETTE.length];
    parts.push(
      `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(b.value) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${color}"><title>${esc(`${b.label}: ${si(b.value)} ${unit}`)}</title></rect>`,
    );
    if (b.min !== undefined && b.max !== undefined && b.max > b.min) {
      const cy = y + rowH / 2 - 1;
      parts.push(
        `<line x1="${x(b.min).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${cy}" y2="${cy}" class="w"/>`,
        `<line x1="${x(b.min).toFixed(1)}" x2="${x(b.min).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" class="w"/>`,
        `<line x1="${x(b.max).toFixed(1)}" x2="${x(b.max).toFixed(1)}" y1="${cy - 4}" y2="${cy + 4}" class="w"/>`,
      );
    }
    const end = Math.max(x(b.value), b.max !== undefined ? x(b.max) : 0);
    parts.push(`<text x="${(end + 6).toFixed(1)}" y="${y + 14}">${esc(b.note ?? si(b.value))}</text>`);
  });
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${parts.join("")}</svg>`;
}

export interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly color?: string;
}

/** Lines over a shared x axis (e.g. seconds), with a legend. */
export function lineChart(title: string, xUnit: string, yUnit: string, series: readonly Series[]): string {
  const shown = series.filter((s) => s.points.length > 1);
  if (shown.length === 0) return "";
  const w = 640;
  const plotH = 200;
  const left = 56;
  const top = 28;
  const plotW = w - left - 16;
  const legendH = 18 * Math.ceil(shown.length / 3);
  const h = top + plotH + 30 + legendH;
  const xs = shown.flatMap((s) => s.points.map((p) => p[0]));
  const ys = shown.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(...xs) || 1;
  const yMax = Math.max(...ys) * 1.05 || 1;
  const px = (v: number) => left + (v / xMax) * plotW;
  const py = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts = [
    `<text x="0" y="16" class="t">${esc(title)}</text>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" class="a"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" class="a"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(
      `<text x="${left - 4}" y="${py(v) + 4}" text-anchor="end">${esc(si(v))}</text>`,
      `<line x1="${left}" x2="${left + plotW}" y1="${py(v)}" y2="${py(v)}" class="g"/>`,
    );
    const xv = (xMax * k) / 4;
    parts.push(
      `<text x="${px(xv)}" y="${top + plotH + 14}" text-anchor="middle">${esc(si(xv))}${k === 4 ? ` ${esc(xUnit)}` : ""}</text>`,
    );
  }
  parts.push(`<text x="${left + 4}" y="${top + 10}">${esc(yUnit)}</text>`);
  shown.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const d = s.points
      .map((p, j) => `${j ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`)
      .join("");
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"><title>${esc(s.label)}</title></path>`,
    );
    const lx = left + (i % 3) * 200;
    const ly = top + plotH + 32 + Math.floor(i / 3) * 18;
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`,
      `<text x="${lx + 14}" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${parts.join("")}</svg>`;
}
