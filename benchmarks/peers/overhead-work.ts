/**
 * @module The work of the engine-overhead benchmark, shared by every
 * implementation so they all call the same two functions: map `n => n * 2 + 1`,
 * keep `n % 3 === 0`, sum what is left. The functions are deliberately cheap:
 * the benchmark measures what each engine adds around them.
 */
export interface OverheadWork {
  readonly map: (n: number) => number;
  readonly keep: (n: number) => boolean;
}

export const work: OverheadWork = {
  map: (n) => n * 2 + 1,
  keep: (n) => n % 3 === 0,
};

/** The numbers 0..n-1 (generated outside the timed part). */
export function numbers(n: number): number[] {
  const a = new Array<number>(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** The expected sum, computed directly (each run is checked against it). */
export function expectedSum(data: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) {
    const m = data[i] * 2 + 1;
    if (m % 3 === 0) s += m;
  }
  return s;
}
