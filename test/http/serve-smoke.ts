// Serves the app on the runtime running this script (node via tsx, bun, deno)
// on a free loopback port with a fake store and a live bus, prints
// `LISTENING <url>`, publishes progress events until stdin closes.
import { createApp } from "../../src/http/app.ts";
import { serve } from "../../src/runtime/serve.ts";
import { fakeStore, liveRun } from "./fakes.ts";

const run = liveRun("20260102T000000000Z-smoke1");
const app = createApp({ metrics: fakeStore(), bus: run.bus });
run.start();
// Twenty seconds of progress up front: a live series answer large enough to be compressed.
for (let i = 0; i < 200; i++) run.progress();
const served = await serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
const timer = setInterval(() => run.progress(), 50);
console.log(`LISTENING ${served.url}`);
process.stdin.resume();
process.stdin.on("end", async () => {
  clearInterval(timer);
  app.close();
  await served.close();
  process.exit(0);
});
