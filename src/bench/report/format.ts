/**
 * @module Number formatting shared by the terminal table and the HTML report.
 */
import type { Spread } from "../stats.ts";

/** 412345 → "412k", 1234567 → "1.23M". */
export function si(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** A figure with its spread: "412k (398k–420k)"; one run: "412k". */
export function withSpread(s: Spread | undefined, f: (n: number) => string = si): string {
  if (!s) return "–";
  return s.n > 1 && s.min !== s.max ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
}

/** A ratio: "0.62×". */
export function ratio(n: number): string {
  return `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}×`;
}

/** A signed percentage: "+3.2%". */
export function percent(change: number): string {
  const p = change * 100;
  return `${p >= 0 ? "+" : "−"}${Math.abs(p).toFixed(1)}%`;
}

export function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
