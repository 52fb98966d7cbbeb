/** The same smoke suite against a real server on node, bun and deno (`src/runtime/serve.ts`). */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, scriptCommand } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";

const script = join(repo, "test/http/serve-smoke.ts");
let child: ChildProcess | undefined;
afterEach(() => {
  child?.stdin?.end();
  if (child && child.exitCode === null) child.kill("SIGTERM");
  child = undefined;
});

function start(runtime: RuntimeName): Promise<string> {
  const [bin, ...args] = scriptCommand(runtime, script);
  child = spawn(bin, args, { cwd: repo, stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child!.stdout!.on("data", (d) => {
      out += d;
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child!.stderr!.on("data", (d) => {
      err += d;
    });
    child!.on("exit", (code) => reject(new Error(`${runtime} exited ${code}: ${err}`)));
  });
}

async function readUntil(body: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return text;
}

describe.each(["node", "bun", "deno"] as const)("HTTP server on %s", (runtime) => {
  it("answers the smoke suite", async (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const url = await start(runtime);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
    const runs = await (await fetch(`${url}/api/runs?limit=3`)).json();
    expect(runs.items[0]).toMatchObject({ runId: "20260102T000000000Z-smoke1", live: true });
    expect(runs.next).not.toBeNull();
    expect((await fetch(`${url}/api/metrics?metric=nope`)).status).toBe(400);
    const doc = await fetch(`${url}/openapi.json`, { headers: { "Accept-Encoding": "gzip" } });
    expect(doc.status).toBe(200);
    expect(doc.headers.get("Content-Encoding")).toBe("gzip");
    expect((await doc.json()).openapi).toBe("3.1.0");
    expect(await (await fetch(`${url}/metrics`)).text()).toContain("sluice_stage_rows_in_total");
    // The live run's series: tagged, sized, 304 when unchanged, gzip (compressed once) when accepted.
    const series = `${url}/api/metrics?run=20260102T000000000Z-smoke1&bucket=1s&from=1767312000000&to=1767312020000`;
    const plain = await fetch(series, { headers: { "Accept-Encoding": "identity" } });
    const body = await plain.text();
    expect(JSON.parse(body).points.length).toBe(20);
    expect(plain.headers.get("Content-Length")).toBe(String(new TextEncoder().encode(body).length));
    expect(plain.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const etag = plain.headers.get("ETag")!;
    const again = await fetch(series, { headers: { "If-None-Match": etag, "Accept-Encoding": "identity" } });
    expect(again.status).toBe(304);
    const zipped = await fetch(series, { headers: { "Accept-Encoding": "gzip" } });
    expect(zipped.headers.get("Content-Encoding")).toBe("gzip");
    expect(zipped.headers.get("ETag")).toBe(`W/${etag}`);
    expect(await zipped.text()).toBe(body);
    const page = await fetch(`${url}/`);
    expect(page.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    const stream = await fetch(`${url}/api/runs/20260102T000000000Z-smoke1/stream`);
    const text = await readUntil(stream.body!, /event: batch\ndata: .*stage\.progress/);
    expect(text).toContain("event: snapshot");
    expect(text).toMatch(/event: batch/);
  });
});
