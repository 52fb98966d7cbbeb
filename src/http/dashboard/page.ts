/**
 * @module The dashboard's HTML and CSS: static text, no build step. The
 * script is in `script.ts`; all three are served from this app under a
 * Content-Security-Policy that allows only same-origin scripts and styles.
 */

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header>
  <h1>sluice</h1>
  <span id="run-title">no run selected</span>
  <span id="run-status" class="status"></span>
  <span id="conn" class="conn">connecting…</span>
</header>
<main>
  <nav>
    <h2>Runs</h2>
    <ul id="runs"></ul>
  </nav>
  <section id="content">
    <div id="totals" class="totals"></div>
    <div class="charts">
      <figure>
        <figcaption>Throughput (rows/s) per stage</figcaption>
        <canvas id="chart-throughput" width="640" height="220" data-points="0"></canvas>
        <div class="legend" id="legend-throughput"></div>
      </figure>
      <figure>
        <figcaption>Chunk latency p99 (ms) per stage</figcaption>
        <canvas id="chart-latency" width="640" height="220" data-points="0"></canvas>
        <div class="legend" id="legend-latency"></div>
      </figure>
      <figure>
        <figcaption>Trends over the pipeline's last runs (change across the window)</figcaption>
        <canvas id="chart-trends" width="640" height="220" data-rows="0"></canvas>
        <div class="legend" id="legend-trends"></div>
      </figure>
    </div>
    <div class="panels">
      <div class="panel"><h2>Alerts</h2><ul id="alerts"><li class="muted">none</li></ul></div>
      <div class="panel"><h2>Bottleneck</h2><div id="bottleneck" class="muted">not known yet</div></div>
      <div class="panel"><h2>Recommendations</h2><ul id="recommendations"><li class="muted">none yet</li></ul></div>
      <div class="panel"><h2>Dead letters by reason</h2><ul id="dead-letters"><li class="muted">none</li></ul></div>
      <div class="panel"><h2>Event time</h2><ul id="windows"><li class="muted">no window stage</li></ul></div>
      <div class="panel wide" id="workers-panel" data-workers="0" hidden><h2>Remote workers</h2><table id="workers"></table></div>
    </div>
  </section>
</main>
</body>
</html>
`;

export const LOGIN_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>sluice — sign in</title><link rel="stylesheet" href="/assets/app.css"></head>
<body class="login">
<form method="post" action="/login">
  <h1>sluice</h1>
  <p>This server needs its access token (SLUICE_TOKEN or --token).</p>
  <label>Token <input type="password" name="token" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
</body>
</html>
`;

export const APP_CSS = `
:root { --bg:#fafafa; --fg:#1d2329; --muted:#6b7580; --line:#dde2e7; --card:#fff; --bad:#c62828; --warn:#ef6c00; --ok:#2e7d32; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1rem; align-items:baseline; padding:.6rem 1rem; border-bottom:1px solid var(--line); background:var(--card); }
header h1 { font-size:1.1rem; margin:0; }
.status { font-weight:600; } .status.running { color:var(--warn); } .status.completed { color:var(--ok); } .status.failed { color:var(--bad); }
.conn { margin-left:auto; color:var(--muted); font-size:.85rem; }
main { display:flex; min-height:calc(100vh - 3rem); }
nav { width:19rem; border-right:1px solid var(--line); padding:.5rem 1rem; background:var(--card); overflow:auto; }
nav h2, .panel h2 { font-size:.9rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
nav ul { list-style:none; margin:0; padding:0; }
nav li { padding:.3rem .4rem; cursor:pointer; border-radius:4px; font-size:.85rem; }
nav li.selected { background:#e8eef6; }
nav li .p { font-weight:600; } nav li .s { color:var(--muted); }
#content { flex:1; padding:1rem; overflow:auto; }
.totals { display:flex; gap:1.5rem; flex-wrap:wrap; margin-bottom:1rem; }
.totals div { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.4rem .8rem; }
.totals b { display:block; font-size:1.2rem; }
.charts { display:flex; flex-wrap:wrap; gap:1rem; }
figure { margin:0; background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.5rem; }
figcaption { font-weight:600; margin-bottom:.3rem; }
canvas { width:640px; height:220px; display:block; }
.legend { display:flex; gap:.8rem; flex-wrap:wrap; font-size:.8rem; margin-top:.3rem; }
.legend span::before { content:""; display:inline-block; width:.7rem; height:.7rem; margin-right:.3rem; background:var(--c); border-radius:2px; }
.panels { display:flex; gap:1rem; flex-wrap:wrap; margin-top:1rem; }
.panel { flex:1; min-width:16rem; background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.2rem .8rem .6rem; }
.panel ul { margin:0; padding-left:1.1rem; }
.alert.critical { color:var(--bad); } .alert.warning { color:var(--warn); } .alert.resolved { color:var(--muted); text-decoration:line-through; }
.muted { color:var(--muted); }
#dead-letters li.dl-group { margin:.5rem 0; }
.dl-chart { display:block; margin-top:.25rem; width:100%; max-width:480px; height:40px; }
.dl-chart .bar { fill:var(--bad); } .dl-chart .axis { stroke:var(--line); vector-effect:non-scaling-stroke; }
.dl-axis { display:flex; justify-content:space-between; max-width:480px; font-size:.75rem; }
.samples code.sample { display:block; margin-top:.15rem; padding:.1rem .3rem; background:#f3f5f7; border-radius:3px; font-size:.8rem; white-space:pre-wrap; word-break:break-all; }
.panel.wide { flex-basis:100%; }
#workers { border-collapse:collapse; font-size:.85rem; width:100%; }
#workers th, #workers td { text-align:left; padding:.15rem .5rem; border-bottom:1px solid var(--line); white-space:nowrap; }
#workers th { color:var(--muted); font-weight:600; }
#workers .num { text-align:right; } #workers td.bad { color:var(--bad); }
#workers meter { width:4rem; vertical-align:middle; }
#workers tr.hung td.state { color:var(--warn); font-weight:600; } #workers tr.gone { color:var(--muted); }
.legend .improving { color:var(--ok); } .legend .worsening { color:var(--bad); }
body.login { display:flex; align-items:center; justify-content:center; height:100vh; }
body.login form { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:1.5rem; display:grid; gap:.8rem; }
`;
