// Node 20 entry for the raw peer worker: register tsx inside the worker thread, then load the TS worker.
import { register } from "tsx/esm/api";

register();
await import("./raw-worker.ts");
