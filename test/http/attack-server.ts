// The target of the attack suite (`attack.test.ts`): serves the app on the
// runtime running this script (node via tsx, bun, deno) on a free loopback
// port, configured by the JSON in argv[2] (`auth`, `limits`). A live run
// stands in for `sluice run --serve`; a cancel prints `CANCEL <id>`.
// `GET /api/baselines` waits until stdin says `release` (a slow store query,
// without timing). Prints `LISTENING <url>`; stops when stdin closes.
import { createApp } from "../../src/http/app.ts";
import { serve } from "../../src/runtime/serve.ts";
import { fakeStore, liveRun } from "./fakes.ts";

const config = JSON.parse(process.argv[2] ?? "{}");
const run = liveRun("20260102T000000000Z-attack");
const store = fakeStore();
let release = () => {};
const gate = new Promise<void>((r) => {
  release = r;
});
const baselines = store.baselines;
store.baselines = async (q) => {
  await gate;
  return baselines(q);
};
const app = createApp({
  metrics: store,
  bus: run.bus,
  auth: config.auth,
  limits: config.limits,
  cancel: (id) => {
    console.log(`CANCEL ${id}`);
    return true;
  },
});
run.start();
run.progress();
const served = await serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
const timer = setInterval(() => run.progress(), 50);
console.log(`LISTENING ${served.url}`);
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  if (String(d).includes("release")) release();
});
process.stdin.on("end", async () => {
  clearInterval(timer);
  app.close();
  await served.close();
  process.exit(0);
});
