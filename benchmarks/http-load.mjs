// The load generator of http.bench.ts, run as a child process so its CPU is
// not the server's: autocannon (its programmatic API) against one URL at a
// fixed overall rate until stdin closes or the duration ends, then one JSON
// line on stdout: latency percentiles, requests, duration, and this process's
// own CPU time. Usage: node benchmarks/http-load.mjs URL RATE SECONDS
//
// Two sets of percentiles: autocannon's own (`p50`, `p99`), which at a fixed
// rate add coordinated-omission corrections with an expected interval of 1 ms
// (`ceil(1 / rate-per-connection)`, a seconds/ms mix-up: the real interval is
// connections / rate, 20 ms here), so every response slower than 1 ms adds
// synthetic samples; and the per-request response times (`rawP50`, `rawP99`).
import process from "node:process";
import autocannon from "autocannon";

const [url, rate, seconds] = process.argv.slice(2);
const times = [];
const instance = autocannon(
  { url, overallRate: Number(rate), connections: 10, duration: Number(seconds) },
  (err, r) => {
    if (err) {
      console.error(err.message);
      process.exit(1);
    }
    const cpu = process.cpuUsage();
    times.sort((a, b) => a - b);
    const at = (p) =>
      times.length
        ? Math.round(times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] * 10) / 10
        : null;
    console.log(
      JSON.stringify({
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max,
        rawP50: at(50),
        rawP99: at(99),
        requests: r.requests.total,
        seconds: r.duration,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        cpuMs: (cpu.user + cpu.system) / 1000,
      }),
    );
    process.exit(0);
  },
);
instance.on("response", (_client, status, _bytes, ms) => {
  if (status >= 200 && status < 300) times.push(ms);
});
process.stdin.on("end", () => instance.stop());
process.stdin.resume();
