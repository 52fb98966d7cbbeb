/**
 * @module The dashboard script's dead-letter panel (spliced into `APP_JS`,
 * whose helpers `$`, `el` and `fmt` it uses): per (stage, normalised reason)
 * group of `/api/runs/{id}/dead-letters`, its count, stage and reason, its
 * letters over time as inline SVG bars (one per bucket of the run's letters'
 * time range: `from`, `to`, `bucketMs`; scaled to the group's busiest bucket;
 * drawn through the DOM, so the Content-Security-Policy needs no inline
 * script or style) and the raw input of its first letters. Plain ES2020
 * without backticks, like the rest of the script.
 */

export const DEAD_LETTERS_JS = `  // Dead letters by reason over time: per group its count, stage and reason, its letters per bucket of
  // the run's letters' time range (from, to, bucketMs: one SVG bar a bucket, scaled to the group's
  // busiest bucket) and the raw input of its first letters.
  var SVG_NS = "http://www.w3.org/2000/svg";
  var DL_BUCKETS = 30, DL_SAMPLE_CHARS = 400;
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  function hms(t) { return new Date(t).toISOString().slice(11, 19); }
  function span(ms) { return ms < 1000 ? ms + " ms" : ms < 120000 ? fmt(ms / 1000) + " s" : fmt(ms / 60000) + " min"; }
  function letterChart(series, d) {
    var W = 240, H = 36, n = series.length, max = 0, sum = 0;
    series.forEach(function (v) { max = Math.max(max, v); sum += v; });
    var c = svg("svg", { "class": "dl-chart", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img",
      "data-buckets": n, "data-letters": sum });
    c.setAttribute("aria-label", sum + " letters in " + n + " buckets of " + span(d.bucketMs) + ", at most " + max + " in one");
    c.appendChild(svg("line", { "class": "axis", x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }));
    var w = W / Math.max(1, n);
    series.forEach(function (v, i) {
      var h = max > 0 && v > 0 ? Math.max(1.5, ((H - 2) * v) / max) : 0;
      var bar = svg("rect", { "class": "bar", x: (i * w + w * 0.1).toFixed(2), y: (H - 1 - h).toFixed(2),
        width: (w * 0.8).toFixed(2), height: h.toFixed(2), "data-count": v });
      var tip = document.createElementNS(SVG_NS, "title");
      tip.textContent = hms(d.from + i * d.bucketMs) + " +" + span(d.bucketMs) + ": " + v + " letters";
      bar.appendChild(tip);
      c.appendChild(bar);
    });
    return c;
  }
  function renderDeadLetters(d) {
    var ul = $("dead-letters");
    ul.textContent = "";
    var c = d.counts || { total: 0, redriven: 0, dead: 0 };
    ul.setAttribute("data-total", String(c.total));
    if (!d.groups || d.groups.length === 0) { ul.appendChild(el("li", "muted", "none")); return; }
    var head = c.total + " dead letters · " + c.redriven + " redriven · " + c.dead + " still dead";
    if (d.bucketMs) head += " · bars of " + span(d.bucketMs) + " from " + hms(d.from) + " to " + hms(d.to);
    ul.appendChild(el("li", "muted", head));
    d.groups.forEach(function (g) {
      var li = el("li", "dl-group", g.count + " × [" + g.stage + "] " + g.reason);
      li.setAttribute("data-count", String(g.count));
      li.setAttribute("data-stage", g.stage);
      if (g.series && d.bucketMs) {
        li.appendChild(letterChart(g.series, d));
        var axis = el("div", "dl-axis muted");
        axis.appendChild(el("span", null, hms(d.from)));
        axis.appendChild(el("span", null, hms(d.to)));
        li.appendChild(axis);
      }
      li.appendChild(el("div", "muted", "first " + hms(g.firstTs) + " → last " + hms(g.lastTs)));
      var samples = el("div", "samples");
      (g.samples || [g.sample]).forEach(function (s) {
        var text = s.length > DL_SAMPLE_CHARS ? s.slice(0, DL_SAMPLE_CHARS) + "…" : s;
        var code = el("code", "sample", text);
        if (text !== s) code.title = "cut: " + s.length + " characters";
        samples.appendChild(code);
      });
      li.appendChild(samples);
      ul.appendChild(li);
    });
  }
`;
