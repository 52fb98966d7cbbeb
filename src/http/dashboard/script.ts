/**
 * @module The dashboard's script: plain ES2020 for the browser, served as is
 * (no bundler, no framework, no chart library). It lists runs, follows the
 * selected run's SSE stream and draws throughput and p99 latency per stage
 * on canvases, with alerts, the bottleneck and recommendations beside them,
 * and the trends of the run's pipeline over its last runs (`/api/trends`):
 * one bar per stage and figure, its length the fitted change across the
 * window, green when improving, red when worsening, grey when flat or
 * unknown (too few runs); and the dead letters by reason, each group with
 * its letters over time as inline SVG bars (one per bucket) and its sample
 * inputs (that panel's code is in `dead-letters.ts`); and, for a run of a
 * distributed parallelMap, its remote workers (`workers.ts`).
 * Percentiles are read from the same fixed histogram buckets as the engine
 * (bounds: ×1.25 from 1 µs). The text avoids backticks so it can live in
 * this TypeScript string.
 */

import { DEAD_LETTERS_JS } from "./dead-letters.ts";
import { WORKERS_JS } from "./workers.ts";

export const APP_JS = `"use strict";
(function () {
  var BOUNDS = [];
  for (var b = 0.001; b < 1e7; b *= 1.25) BOUNDS.push(Number(b.toPrecision(6)));
  var COLORS = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#c62828", "#5d4037", "#ad1457"];
  var MAX_POINTS = 300;
  var state = { run: null, chosen: false, source: null, series: {}, colors: {}, alerts: {}, points: 0, pipelines: {}, windows: {} };
  var FIGURE = { rows_per_s: "rows/s", p99_ms: "p99", peak_rss_bytes: "peak RSS" };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(x) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    if (Math.abs(x) >= 1e6) return (x / 1e6).toFixed(1) + "M";
    if (Math.abs(x) >= 1e4) return (x / 1e3).toFixed(1) + "k";
    if (Math.abs(x) >= 100) return x.toFixed(0);
    return x.toPrecision(3);
  }
  function getJson(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }
  function percentile(hist, p) {
    if (!hist || !hist.count) return null;
    var rank = Math.max(1, Math.ceil((p / 100) * hist.count));
    var buckets = hist.buckets.slice().sort(function (a, b) { return a[0] - b[0]; });
    var seen = 0;
    for (var i = 0; i < buckets.length; i++) {
      seen += buckets[i][1];
      if (seen >= rank) return Math.min(BOUNDS[buckets[i][0]], hist.maxMs);
    }
    return hist.maxMs;
  }
  function color(stage) {
    if (!state.colors[stage]) state.colors[stage] = COLORS[Object.keys(state.colors).length % COLORS.length];
    return state.colors[stage];
  }
  function addPoint(stage, t, tput, p99) {
    var s = state.series[stage];
    if (!s) { s = state.series[stage] = { t: [], tput: [], p99: [] }; color(stage); }
    s.t.push(t); s.tput.push(tput); s.p99.push(p99);
    if (s.t.length > MAX_POINTS) { s.t.shift(); s.tput.shift(); s.p99.shift(); }
    state.points++;
  }

  function draw(canvasId, legendId, key) {
    var c = $(canvasId);
    var dpr = window.devicePixelRatio || 1;
    var w = c.clientWidth || 640, h = c.clientHeight || 220;
    c.width = w * dpr; c.height = h * dpr;
    var g = c.getContext("2d");
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, h);
    var stages = Object.keys(state.series);
    var t0 = Infinity, t1 = -Infinity, y1 = 0, n = 0;
    stages.forEach(function (st) {
      var s = state.series[st];
      for (var i = 0; i < s.t.length; i++) {
        var v = s[key][i];
        if (v === null || !isFinite(v)) continue;
        t0 = Math.min(t0, s.t[i]); t1 = Math.max(t1, s.t[i]); y1 = Math.max(y1, v); n++;
      }
    });
    c.setAttribute("data-points", String(n));
    var L = 48, R = 8, T = 8, B = 20;
    g.strokeStyle = "#dde2e7"; g.fillStyle = "#6b7580"; g.font = "11px system-ui, sans-serif";
    for (var k = 0; k <= 4; k++) {
      var y = T + ((h - T - B) * k) / 4;
      g.beginPath(); g.moveTo(L, y); g.lineTo(w - R, y); g.stroke();
      g.fillText(fmt(y1 * (1 - k / 4)), 2, y + 4);
    }
    if (n === 0) { g.fillText("waiting for data…", L + 8, h / 2); return; }
    if (t1 === t0) t1 = t0 + 1000;
    if (y1 === 0) y1 = 1;
    g.fillText(new Date(t0).toLocaleTimeString(), L, h - 4);
    var end = new Date(t1).toLocaleTimeString();
    g.fillText(end, w - R - g.measureText(end).width, h - 4);
    var legend = $(legendId);
    legend.textContent = "";
    stages.forEach(function (st) {
      var s = state.series[st];
      g.strokeStyle = color(st); g.lineWidth = 1.5; g.beginPath();
      var started = false;
      for (var i = 0; i < s.t.length; i++) {
        var v = s[key][i];
        if (v === null || !isFinite(v)) continue;
        var x = L + ((w - L - R) * (s.t[i] - t0)) / (t1 - t0);
        var yy = T + (h - T - B) * (1 - v / y1);
        if (!started) { g.moveTo(x, yy); started = true; } else g.lineTo(x, yy);
      }
      g.stroke();
      var item = el("span", null, st);
      item.style.setProperty("--c", color(st));
      legend.appendChild(item);
    });
  }
  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      draw("chart-throughput", "legend-throughput", "tput");
      draw("chart-latency", "legend-latency", "p99");
    });
  }

  function renderTotals(run) {
    var t = $("totals");
    t.textContent = "";
    [["rows in", run.rowsIn], ["rows out", run.rowsOut], ["filtered", run.filtered], ["dead-lettered", run.deadLettered]]
      .forEach(function (kv) {
        var d = el("div", null, kv[0]);
        d.insertBefore(el("b", null, kv[1] >= 1e4 ? fmt(kv[1]) : String(kv[1] || 0)), d.firstChild);
        t.appendChild(d);
      });
  }
  function setStatus(status) {
    var s = $("run-status");
    s.textContent = status;
    s.className = "status " + status;
  }
  function renderAlerts() {
    var ul = $("alerts");
    ul.textContent = "";
    var ids = Object.keys(state.alerts);
    if (ids.length === 0) { ul.appendChild(el("li", "muted", "none")); return; }
    ids.forEach(function (id) {
      var a = state.alerts[id];
      var li = el("li", "alert " + a.severity + (a.resolvedAt ? " resolved" : ""), a.severity + ": " + (a.message || a.rule));
      li.setAttribute("data-alert-id", id);
      ul.appendChild(li);
    });
  }
  // Window stages (window.progress): watermark, its lag behind the largest event time, open windows, late records.
  function renderWindows() {
    var ul = $("windows");
    ul.textContent = "";
    var stages = Object.keys(state.windows);
    if (stages.length === 0) { ul.appendChild(el("li", "muted", "no window stage")); return; }
    stages.forEach(function (st) {
      var w = state.windows[st];
      var wm = w.watermark === undefined ? "–" : new Date(w.watermark).toISOString().replace(".000Z", "Z");
      var li = el("li", w.late > 0 ? "alert warning" : "", st + ": watermark " + wm + " · lag " + fmt(w.lagMs / 1000) + " s · " +
        fmt(w.openWindows) + " open · " + fmt(w.late) + " too late · " + fmt(w.lateAccepted) + " late within lateness");
      li.setAttribute("data-window-stage", st);
      ul.appendChild(li);
    });
  }
  function drawTrends(rows) {
    var c = $("chart-trends");
    var dpr = window.devicePixelRatio || 1;
    var w = c.clientWidth || 640, h = c.clientHeight || 220;
    c.width = w * dpr; c.height = h * dpr;
    var g = c.getContext("2d");
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";
    var shown = rows.slice(0, 12);
    c.setAttribute("data-rows", String(shown.length));
    if (shown.length === 0) { g.fillStyle = "#6b7580"; g.fillText("no completed run of this pipeline yet", 8, h / 2); return; }
    var L = 170, R = 60, mid = L + (w - L - R) / 2, half = (w - L - R) / 2, row = (h - 8) / shown.length;
    g.strokeStyle = "#dde2e7"; g.beginPath(); g.moveTo(mid, 0); g.lineTo(mid, h); g.stroke();
    var counts = { improving: 0, worsening: 0, flat: 0, unknown: 0 };
    shown.forEach(function (t, i) {
      var y = 4 + i * row;
      var dir = t.direction || "unknown";
      counts[dir]++;
      g.fillStyle = "#1d2329";
      g.fillText((t.stage === "*" ? "run" : t.stage) + " · " + FIGURE[t.metric], 4, y + row / 2 + 4);
      var ch = t.change === null ? 0 : Math.max(-1, Math.min(1, t.change));
      g.fillStyle = dir === "improving" ? "#2e7d32" : dir === "worsening" ? "#c62828" : "#9aa4ae";
      var len = Math.max(1, Math.abs(ch) * half);
      g.fillRect(ch < 0 ? mid - len : mid, y + row * 0.2, len, row * 0.6);
      g.fillStyle = "#6b7580";
      g.fillText(t.change === null ? "–" : (t.change > 0 ? "+" : "") + (t.change * 100).toFixed(0) + "%", w - R + 6, y + row / 2 + 4);
    });
    var legend = $("legend-trends");
    legend.textContent = "";
    legend.appendChild(el("span", "muted", "runs: " + shown[0].runs));
    ["improving", "worsening", "flat", "unknown"].forEach(function (k) {
      if (counts[k]) legend.appendChild(el("span", k, counts[k] + " " + k));
    });
  }
  function loadTrends() {
    var runId = state.run;
    var p = state.pipelines[runId];
    if (!p) return;
    getJson("/api/trends?pipeline=" + encodeURIComponent(p)).then(function (t) {
      if (state.run === runId) drawTrends(t);
    }).catch(function () {});
  }
${DEAD_LETTERS_JS}
${WORKERS_JS}
  function loadInsights() {
    if (!state.run) return;
    loadTrends();
    var runId = state.run;
    var run = encodeURIComponent(runId);
    // Answers that arrive after the page switched runs are dropped (they are the other run's).
    var mine = function (fn) { return function (x) { if (state.run === runId) fn(x); }; };
    getJson("/api/bottlenecks?run=" + run).then(mine(function (b) {
      var d = $("bottleneck");
      d.className = "";
      d.textContent = b.bottleneck ? b.bottleneck.stage + " (" + b.bottleneck.kind + ")" : "no single stage limits the run";
      (b.evidence || []).forEach(function (line) { d.appendChild(el("p", "muted", line)); });
    })).catch(function () {});
    getJson("/api/recommendations?run=" + run).then(mine(function (r) {
      var list = Array.isArray(r) ? r : r.items || r.recommendations || [];
      var ul = $("recommendations");
      ul.textContent = "";
      if (list.length === 0) ul.appendChild(el("li", "muted", "none"));
      list.forEach(function (x) {
        if (typeof x === "string") { ul.appendChild(el("li", null, x)); return; }
        var li = el("li", null, x.action || x.message || x.id);
        if (x.reason) li.appendChild(el("div", "muted", x.reason));
        ul.appendChild(li);
      });
    })).catch(function () {});
    getJson("/api/runs/" + run + "/dead-letters?status=all&buckets=" + DL_BUCKETS).then(mine(renderDeadLetters)).catch(function () {});
    loadWorkers(state.run);
    getJson("/api/alerts?state=all&run=" + run).then(mine(function (r) {
      r.items.forEach(function (a) { state.alerts[a.alertId] = a; });
      renderAlerts();
    })).catch(function () {});
  }

  function onEvents(events) {
    var progress = null;
    events.forEach(function (e) {
      if (e.kind === "stage.progress" && e.intervalMs > 0) {
        addPoint(e.stage, e.ts, (e.rowsIn * 1000) / e.intervalMs, percentile(e.latency, 99));
      } else if (e.kind === "run.progress") progress = e;
      else if (e.kind === "window.progress") {
        var prev = state.windows[e.stage] || { late: 0, lateAccepted: 0 };
        state.windows[e.stage] = {
          watermark: e.watermark === undefined ? prev.watermark : e.watermark,
          lagMs: e.lagMs,
          openWindows: e.openWindows,
          late: prev.late + e.late,
          lateAccepted: prev.lateAccepted + e.lateAccepted,
        };
        renderWindows();
      }
      else if (e.kind === "alert.raised") {
        state.alerts[e.alertId] = { alertId: e.alertId, rule: e.rule, severity: e.severity, message: e.message, resolvedAt: null };
        renderAlerts();
      } else if (e.kind === "alert.resolved" && state.alerts[e.alertId]) {
        state.alerts[e.alertId].resolvedAt = new Date(e.ts).toISOString();
        renderAlerts();
      } else if (e.kind === "run.ended") {
        setStatus(e.status);
        progress = e;
        loadInsights();
        loadRuns().catch(function () {});
      }
    });
    if (progress) renderTotals(progress);
    redraw();
  }

  function follow(runId) {
    if (state.source) state.source.close();
    state.run = runId; state.series = {}; state.colors = {}; state.alerts = {}; state.windows = {}; state.points = 0; renderWindows();
    renderWorkers(null);
    renderAlerts();
    redraw();
    document.querySelectorAll("#runs li").forEach(function (li) {
      li.classList.toggle("selected", li.getAttribute("data-run") === runId);
    });
    $("run-title").textContent = runId;
    var since = Date.now() - 15 * 60 * 1000;
    Promise.all([
      getJson("/api/metrics?metric=rows_per_s&bucket=1s&from=" + since + "&run=" + encodeURIComponent(runId)).catch(function () { return null; }),
      getJson("/api/metrics?metric=p99_ms&bucket=1s&from=" + since + "&run=" + encodeURIComponent(runId)).catch(function () { return null; }),
    ]).then(function (r) {
      if (!r[0] || state.run !== runId || state.points > 0) return;
      var p99 = {};
      if (r[1]) r[1].points.forEach(function (p) { p99[p.stage + "@" + p.t] = p.value; });
      r[0].points.forEach(function (p) { addPoint(p.stage, p.t, p.value, p99[p.stage + "@" + p.t]); });
      redraw();
    });
    loadInsights();
    var es = new EventSource("/api/runs/" + encodeURIComponent(runId) + "/stream");
    state.source = es;
    es.addEventListener("open", function () { $("conn").textContent = "live"; });
    es.addEventListener("error", function () { $("conn").textContent = "reconnecting…"; });
    es.addEventListener("snapshot", function (m) {
      var run = JSON.parse(m.data);
      setStatus(run.status);
      renderTotals(run);
    });
    es.addEventListener("batch", function (m) { onEvents(JSON.parse(m.data)); });
    es.addEventListener("end", function () { es.close(); $("conn").textContent = "past run"; });
  }

  function loadRuns() {
    return getJson("/api/runs?limit=50").then(function (page) {
      var ul = $("runs");
      ul.textContent = "";
      page.items.forEach(function (r) {
        var li = el("li");
        li.setAttribute("data-run", r.runId);
        if (r.runId === state.run) li.classList.add("selected");
        state.pipelines[r.runId] = r.pipeline;
        li.appendChild(el("div", "p", r.pipeline + (r.live ? " ●" : "")));
        li.appendChild(el("div", "s", r.status + " · " + r.runId));
        li.addEventListener("click", function () { state.chosen = true; follow(r.runId); });
        ul.appendChild(li);
      });
      // Until a run is clicked, the page follows a live run: one that starts after the page
      // opened (sluice run --serve serves before its run is listed) is taken up once listed.
      if (state.chosen || page.items.length === 0) return;
      var current = page.items.filter(function (r) { return r.runId === state.run; })[0];
      if (current && current.live) return;
      var live = page.items.filter(function (r) { return r.live; })[0];
      if (live) follow(live.runId);
      else if (!state.run) follow(page.items[0].runId);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    loadRuns().catch(function (e) { $("conn").textContent = String(e.message || e); });
    setInterval(function () { loadRuns().catch(function () {}); loadInsights(); }, 5000);
  });
})();
`;
