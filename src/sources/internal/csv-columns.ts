/**
 * @module Column names of a CSV header (made unique) and the record builder made from them.
 */

/**
 * Header names made unique as papaparse does: a repeated name gets the first free `_1`, `_2`…
 * suffix that the header does not have itself, so `c,c,c,c_1` gives `c, c_2, c_3, c_1` and the
 * file's own `c_1` keeps its name.
 */
export function uniqueNames(names: readonly string[]): string[] {
  const own = new Set(names);
  const taken = new Set<string>();
  const next = new Map<string, number>();
  return names.map((name) => {
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
    let k = next.get(name) ?? 1;
    while (own.has(`${name}_${k}`) || taken.has(`${name}_${k}`)) k++;
    next.set(name, k + 1);
    const unique = `${name}_${k}`;
    taken.add(unique);
    return unique;
  });
}

/**
 * A function building `{ [names[i]]: row[i] }` as one object literal, so all records share a hidden
 * class. Falls back to `Object.fromEntries` where code generation is not allowed (strict CSP).
 */
export function objectFactory(names: readonly string[]): (row: string[]) => Record<string, string> {
  const props = names.map(
    (name, i) => `${name === "__proto__" ? '["__proto__"]' : JSON.stringify(name)}: r[${i}]`,
  );
  try {
    return new Function("r", `"use strict"; return { ${props.join(", ")} };`) as (
      row: string[],
    ) => Record<string, string>;
  } catch {
    return (row) => Object.fromEntries(names.map((name, i) => [name, row[i]]));
  }
}
