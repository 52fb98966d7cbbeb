// Node 20 entry for piscina's worker: tsx only hooks a worker thread when registered inside it
// (`--import tsx` in execArgv is ignored by tsx off the main thread), so register, then re-export.
import { register } from "tsx/esm/api";

register();
const mod = await import("./score-batch.ts");
export default mod.default;
