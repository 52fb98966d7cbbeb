// The run-core benchmark's smallest pipeline: ten numbers to NDJSON, to time what every
// `sluice run` pays before and after its records (start-up, journal, defaults).
import { pipeline } from "sluice";
import { map } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { iterable } from "sluice/sources";

export default pipeline("ten")
  .from(iterable([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
  .via(map((n: number) => ({ n })))
  .to(ndjson("out/ten.ndjson"));
