/**
 * The dashboard in a real browser: `sluice run FILE --serve 0` on a CSV
 * pipeline whose dead-letter rate raises an alert; headless Chromium
 * (Debian's, driven by playwright-core) opens the page, the charts gain
 * points from the SSE stream, the alert appears, the dead letters by reason
 * show their bars over time and sample rows; a screenshot goes to
 * test-artifacts/dashboard.png. A synthetic past run with remote workers
 * (`cluster.worker` events in its journal, caught up by the served store)
 * shows the remote-workers panel, hidden for the live run.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { openJournal } from "../../src/journal/journal.ts";
import { repo } from "../helpers/runtimes.ts";
import { hasTool, requireTool } from "../helpers/tools.ts";
import { clusterWorker, runEnded, runStarted, T0 } from "../metrics/fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const home = mkdtempSync(join(tmpdir(), "sluice-dash-"));
/** The run pauses half-way until this file exists. */
const gate = join(home, "release");
let child: ChildProcess | undefined;
/** What the served run has printed so far: shown when the page does not get what it waits for. */
let childStderr = "";
afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  rmSync(home, { recursive: true, force: true });
});

/** A past run whose parallelMap ran on two remote workers, as its journal has it. */
const CLUSTERED = { runId: "20260105T100030000Z-c1a5e7", pipeline: "cluster-fixture" };
async function writeClusteredRun(): Promise<void> {
  const dir = join(home, ".s", CLUSTERED.pipeline, CLUSTERED.runId, "journal");
  mkdirSync(dir, { recursive: true });
  const j = await openJournal<SluiceEvent>(dir);
  const a = { stage: "2:score", host: "box-a", pid: 101 };
  const b = { stage: "2:score", host: "box-b", pid: 202, runtime: "bun" };
  for (const e of [
    runStarted(CLUSTERED, T0, { stages: ["1:parse", "2:score"] }),
    clusterWorker(CLUSTERED, T0 + 1000, { ...a, tasks: 6, records: 6000, busyMs: 2000, redelivered: 1 }),
    clusterWorker(CLUSTERED, T0 + 1000, { ...b, tasks: 1, records: 1000, busyMs: 500, failures: 2 }),
    clusterWorker(CLUSTERED, T0 + 2000, { ...b, state: "hung" }),
    runEnded(CLUSTERED, T0 + 4000, { durationMs: 4000 }),
  ])
    j.append(e);
  await j.close();
}

function startRun(): Promise<string> {
  child = spawn(
    process.execPath,
    [
      "--import",
      join(repo, "node_modules/tsx/dist/esm/index.mjs"),
      join(repo, "src/cli/main.ts"),
      "run",
      join(repo, "test/fixtures/http/alerting.ts"),
      "--serve",
      "0",
      // The page is checked after the run completes: keep the server up until SIGINT.
      "--keep-serving",
      "--home",
      join(home, ".s"),
    ],
    {
      cwd: home,
      env: {
        ...process.env,
        NO_COLOR: "1",
        SLUICE_FIXTURE_DELAY_MS: "20",
        SLUICE_FIXTURE_GATE: gate,
        // The pipeline's own rules are the ones served (and evaluated): one changed threshold, and
        // the dead-letter rule raised on one reading: a stage reports only intervals it was active
        // in, and the source may read the whole first half (all its bad rows) within one 250 ms
        // interval, so the default two readings would come only after the hold.
        SLUICE_FIXTURE_ALERTS: JSON.stringify({
          rules: { queueDepth: { warning: 4321 }, deadLetterRate: { for: 1 } },
        }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return new Promise((resolve, reject) => {
    let err = "";
    child!.stderr!.on("data", (d) => {
      err += d;
      childStderr = err.slice(-4000);
      const m = /serving the API and dashboard at (http:\/\/\S+?)\/?\n/.exec(err);
      if (m) resolve(m[1]);
    });
    child!.on("exit", (code) => reject(new Error(`sluice exited ${code}: ${err}`)));
  });
}

describe("dashboard", () => {
  it("shows live charts updating and the alert, in headless Chromium", async (ctx) => {
    requireTool(
      ctx,
      hasTool(CHROMIUM, ["--headless", "--no-sandbox", "--version"]),
      "chromium",
      "apt-get install chromium",
    );
    // An earlier completed run of the same pipeline, which the served store catches up from its
    // journal: the trends chart has a run to show.
    const earlier = spawnSync(
      process.execPath,
      [
        "--import",
        join(repo, "node_modules/tsx/dist/esm/index.mjs"),
        join(repo, "src/cli/main.ts"),
        "run",
        join(repo, "test/fixtures/http/alerting.ts"),
        "--quiet",
        "--home",
        join(home, ".s"),
      ],
      { cwd: home, env: { ...process.env, NO_COLOR: "1", SLUICE_FIXTURE_DELAY_MS: "0" }, encoding: "utf8" },
    );
    expect(earlier.status, earlier.stderr).toBe(0);
    await writeClusteredRun();
    const url = await startRun();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${url}/`);
      await page.waitForSelector("#runs li[data-run]");
      // The page follows the live run, also when it opened before the run was listed (the
      // server is up before its run starts): it switches to it once listed. (On a loaded
      // machine the run, compiled by tsx as it starts, is listed after up to 90 s.)
      const liveRun = async (): Promise<string> => {
        for (let i = 0; i < 900; i++) {
          const runs = (await (await fetch(`${url}/api/runs?limit=50`)).json()) as {
            items: Array<{ runId: string; live?: boolean }>;
          };
          const live = runs.items.find((r) => r.live);
          if (live) return live.runId;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`no live run listed at ${url}/api/runs`);
      };
      await page.waitForFunction(
        (id) => document.querySelector("#run-title")?.textContent === id,
        await liveRun(),
        {
          timeout: 30_000,
        },
      );
      const points = () => page.$eval("#chart-throughput", (c) => Number(c.getAttribute("data-points")));
      await page.waitForFunction(
        () => Number(document.querySelector("#chart-throughput")?.getAttribute("data-points")) > 0,
      );
      // The run holds half-way: the charts have its first half and the alert it raised.
      // (While it holds, its throughput drops to nothing and that rule may raise an
      // alert of its own first: the dead-letter one is the alert waited for.)
      // The run is compiled by tsx from src/ as it starts: on a loaded machine (a CI running other
      // suites beside this one) the alert has come after more than 30 s, so it gets 90.
      const alert = await page
        .waitForSelector('#alerts li.alert.critical:has-text("dead-letter rate")', { timeout: 90_000 })
        .catch(async (e: Error) => {
          const shown = await page.$eval("#alerts", (el) => el.textContent ?? "").catch(() => "?");
          throw new Error(
            `${e.message}\nalerts shown: ${shown}\nsluice run --serve printed:\n${childStderr}`,
          );
        });
      expect(await alert.textContent()).toMatch(/dead-letter rate/i);
      const first = await points();
      const rules = (await (await fetch(`${url}/api/rules?pipeline=http-fixture`)).json()) as {
        rules: Record<string, { warning: number; critical: number }>;
      };
      expect(rules.rules.queueDepth).toMatchObject({ warning: 4321, critical: 10_000 });
      writeFileSync(gate, "");
      await page.waitForFunction(
        (n) => Number(document.querySelector("#chart-throughput")?.getAttribute("data-points")) > n,
        first,
      );
      expect(await points()).toBeGreaterThan(first);
      await page.waitForFunction(
        () => Number(document.querySelector("#chart-latency")?.getAttribute("data-points")) > 0,
      );
      await page.waitForFunction(() => document.querySelector("#run-status")?.textContent === "completed");
      await page.waitForFunction(() => !document.querySelector("#bottleneck")?.classList.contains("muted"));
      // The trends chart: one bar per stage and figure of the pipeline's completed runs in the store.
      await page.waitForFunction(
        () => Number(document.querySelector("#chart-trends")?.getAttribute("data-rows")) > 0,
      );
      expect(await page.$eval("#legend-trends", (e) => e.textContent)).toMatch(/runs: \d.*unknown/);
      // Dead letters by reason, with their sample rows (issue 20).
      await page.waitForSelector("#dead-letters li.dl-group");
      expect(await page.$eval("#dead-letters", (e) => Number(e.getAttribute("data-total")))).toBeGreaterThan(
        0,
      );
      // Over time: each group a chart of one bar per bucket of the letters' time range (the
      // API's series), its count, stage and reason, and the raw input of its first letters.
      const runId = await page.$eval("#run-title", (e) => e.textContent);
      const dl = (await (
        await fetch(`${url}/api/runs/${runId}/dead-letters?status=all&buckets=30`)
      ).json()) as {
        bucketMs: number;
        groups: Array<{ stage: string; reason: string; count: number; series: number[]; samples: string[] }>;
      };
      const top = dl.groups[0];
      expect(top.series).toHaveLength(30);
      expect(top.series.reduce((a, b) => a + b, 0)).toBe(top.count);
      // The panel is redrawn every 5 s: wait for the drawing of the finished run's letters.
      await page.waitForFunction(
        (n) => Number(document.querySelector("#dead-letters li.dl-group")?.getAttribute("data-count")) === n,
        top.count,
      );
      const shown = await page.$eval("#dead-letters li.dl-group", (li) => {
        const bars = Array.from(li.querySelectorAll("svg.dl-chart rect.bar"));
        return {
          buckets: Number(li.querySelector("svg.dl-chart")?.getAttribute("data-buckets")),
          counts: bars.map((r) => Number(r.getAttribute("data-count"))),
          drawn: bars.filter((r) => Number(r.getAttribute("height")) > 0).length,
          samples: Array.from(li.querySelectorAll("code.sample")).map((c) => c.textContent),
          text: li.textContent ?? "",
        };
      });
      expect(shown.buckets).toBe(30);
      expect(shown.counts).toEqual(top.series);
      expect(shown.drawn).toBe(top.series.filter((v) => v > 0).length);
      expect(shown.drawn).toBeGreaterThan(0);
      expect(shown.text.startsWith(`${top.count} × [${top.stage}] ${top.reason}`)).toBe(true);
      expect(shown.samples).toEqual(top.samples);
      expect(shown.samples[0]).toMatch(/^\d+,u\d+,not-a-number$/);
      expect(await page.isVisible("#dead-letters li.dl-group code.sample")).toBe(true);
      expect(await page.isVisible("#dead-letters li.dl-group svg.dl-chart")).toBe(true);
      mkdirSync(join(repo, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: join(repo, "test-artifacts/dashboard.png"), fullPage: true });
      // Remote workers: none for this run (the panel is hidden); a row per worker for the clustered run.
      expect(await page.isVisible("#workers-panel")).toBe(false);
      await page.click(`#runs li[data-run="${CLUSTERED.runId}"]`);
      await page.waitForSelector("#workers tr.worker");
      const workers = await page.$$eval("#workers tr.worker", (trs) =>
        trs.map((tr) => [
          tr.className,
          ...Array.from(tr.querySelectorAll("td")).map((td) => td.textContent?.trim()),
        ]),
      );
      expect(workers).toEqual([
        ["worker active", "2:score", "box-a", "101 · node", "6", "6000", "50%", "0", "1", "active"],
        ["worker hung", "2:score", "box-b", "202 · bun", "1", "1000", "13%", "2", "0", "hung"],
      ]);
      expect(await page.isVisible("#workers-panel meter")).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    child!.kill("SIGINT");
    const code = await new Promise((r) => child!.on("exit", r));
    expect(code).toBe(0);
  }, 180_000);
});
