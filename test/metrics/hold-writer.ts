/** Child process: holds the metrics store of HOME open for writing until stdin closes. */
import { openMetricsStore } from "../../src/metrics/store.ts";

const store = await openMetricsStore(process.argv[2]);
process.stdout.write("open\n");
process.stdin.resume();
process.stdin.on("end", async () => {
  await store.close();
  process.exit(0);
});
