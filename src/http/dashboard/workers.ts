/**
 * @module The dashboard script's remote-workers panel (spliced into
 * `APP_JS`, whose helpers `$`, `el` and `fmt` it uses): the rows of
 * `/api/runs/{id}/workers`, one per stage and remote worker of a distributed
 * parallelMap: machine, process, tasks, records, busy share of the run (a
 * `<meter>`, so no inline style), failures, redeliveries and the last state.
 * The panel stays hidden for a run without remote workers. Plain ES2020
 * without backticks, like the rest of the script.
 */

export const WORKERS_JS = `  // Remote workers (distributed parallelMap): one row per stage and worker; hidden without any.
  var WORKER_COLUMNS = ["stage", "host", "pid · runtime", "tasks", "records", "busy", "failures", "redelivered", "state"];
  function count(n) { return n >= 1e4 ? fmt(n) : String(n); }
  function renderWorkers(d) {
    var panel = $("workers-panel"), body = $("workers");
    var list = (d && d.workers) || [];
    panel.hidden = list.length === 0;
    panel.setAttribute("data-workers", String(list.length));
    body.textContent = "";
    if (list.length === 0) return;
    var head = el("tr");
    WORKER_COLUMNS.forEach(function (c, i) { head.appendChild(el("th", i >= 3 && i <= 7 ? "num" : null, c)); });
    body.appendChild(head);
    list.forEach(function (w) {
      var tr = el("tr", "worker " + w.state);
      tr.setAttribute("data-worker", w.workerId);
      tr.setAttribute("data-stage", w.stage);
      tr.appendChild(el("td", null, w.stage));
      tr.appendChild(el("td", null, w.host));
      tr.appendChild(el("td", null, w.pid + " · " + w.runtime));
      tr.appendChild(el("td", "num", count(w.tasks)));
      tr.appendChild(el("td", "num", count(w.records)));
      var busy = el("td", "num");
      var share = w.busyShare;
      busy.setAttribute("data-busy-share", share === null ? "" : String(share));
      if (share !== null) {
        var m = el("meter");
        m.min = 0; m.max = 1; m.value = Math.min(1, share);
        busy.appendChild(m);
      }
      busy.appendChild(el("span", null, share === null ? " –" : " " + (share * 100).toFixed(0) + "%"));
      busy.title = fmt(w.busyMs / 1000) + " s busy";
      tr.appendChild(busy);
      tr.appendChild(el("td", "num" + (w.failures > 0 ? " bad" : ""), count(w.failures)));
      tr.appendChild(el("td", "num", count(w.redelivered)));
      tr.appendChild(el("td", "state", w.state));
      body.appendChild(tr);
    });
  }
  function loadWorkers(runId) {
    getJson("/api/runs/" + encodeURIComponent(runId) + "/workers").then(function (d) {
      if (state.run === runId) renderWorkers(d);
    }).catch(function () {});
  }
`;
