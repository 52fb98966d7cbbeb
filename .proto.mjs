const t0 = performance.now(); const c0 = process.cpuUsage();
const lap = (l) => { const c = process.cpuUsage(c0); console.error(l, (performance.now()-t0).toFixed(0), "ms wall", ((c.user+c.system)/1000).toFixed(0), "ms cpu"); };
await Promise.all([import("/work/main/dist/index.js"), import("/work/main/dist/sources/index.js"), import("/work/main/dist/operators/index.js"), import("/work/main/dist/sinks/index.js")]);
lap("sluice");
if (process.argv[2] === "tsx") {
  (await import("tsx/esm/api")).register();
  await import("/tmp/p10/pipe.ts");
  lap("tsx");
} else {
  const esbuild = await import("esbuild");
  lap("esbuild loaded");
  const r = await esbuild.build({ entryPoints: ["/tmp/p10/pipe.ts"], bundle: true, format: "esm", platform: "node", packages: "external", write: false, sourcemap: "inline", logLevel: "silent" });
  lap("esbuild built");
  const fs = await import("node:fs");
  fs.writeFileSync("/tmp/p10/.pipe.sluice.mjs", r.outputFiles[0].contents);
  process.setSourceMapsEnabled(true);
  await import("/tmp/p10/.pipe.sluice.mjs");
  fs.rmSync("/tmp/p10/.pipe.sluice.mjs");
  lap("imported");
}
