// The load generator of http.bench.ts, run as a child process so its CPU is
// not the server's: autocannon (its programmatic API) against one URL at a
// fixed overall rate until stdin closes or the duration ends, then one JSON
// line on stdout: latency percentiles, requests, duration, and this process's
// own CPU time. Usage: node benchmarks/http-load.mjs URL RATE SECONDS
import process from "node:process";
import autocannon from "autocannon";

const [url, rate, seconds] = process.argv.slice(2);
const instance = autocannon(
  { url, overallRate: Number(rate), connections: 10, duration: Number(seconds) },
  (err, r) => {
    if (err) {
      console.error(err.message);
      process.exit(1);
    }
    const cpu = process.cpuUsage();
    console.log(
      JSON.stringify({
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max,
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
process.stdin.on("end", () => instance.stop());
process.stdin.resume();
