// The catch-up benchmark's floor as a whole process: read every journal under the state
// directory $1 as `catchUp` reads it (segments, CRC checks, payloads decoded; sluice's built
// modules), count the events, exit. With `--none` it loads the same modules and lists the runs
// but reads nothing: the difference is what reading costs a fresh process such as
// `sluice sql` (whose JIT is as cold).
import process from "node:process";
import { listRunRefs, readRunEventBatches } from "../../../dist/journal/runs.js";
import { TRUSTED_KINDS } from "../../../dist/metrics/catch-up.js";

const refs = await listRunRefs(process.argv[2]);
let events = 0;
if (!process.argv.includes("--none"))
  for (const ref of refs)
    for await (const batch of readRunEventBatches(ref.runDir, { trustKinds: TRUSTED_KINDS }))
      events += batch.length;
process.stdout.write(`${JSON.stringify({ runs: refs.length, events })}\n`);
