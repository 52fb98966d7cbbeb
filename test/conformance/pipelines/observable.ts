// Conformance: RxJS at both edges. An inner pipeline read through toObservable(),
// reshaped with RxJS operators, is the outer pipeline's fromObservable() source.
import { concatMap, range, filter as rxFilter, map as rxMap } from "rxjs";
import { pipeline, toObservable } from "sluice";
import { map } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { fromObservable, iterable } from "sluice/sources";

const inner = pipeline("conformance-observable-inner")
  .from(iterable(Array.from({ length: 5000 }, (_, i) => i)))
  .via(map((n: number) => n * 3));

const source = toObservable(inner).pipe(
  rxFilter((n) => n % 2 === 0),
  concatMap((n) => range(0, 2).pipe(rxMap((k) => ({ n, k })))),
);

export default pipeline("conformance-observable")
  .from(fromObservable(source, { replayable: true, overflow: "block", buffer: 512, chunkSize: 100 }))
  .via(map((r: { n: number; k: number }) => ({ ...r, tag: `${r.n}-${r.k}` })))
  .to(ndjson("out/observable.ndjson"));
