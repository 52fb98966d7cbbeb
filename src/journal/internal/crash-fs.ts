/**
 * @module The journal's file system with the `segment-rotation` crash point
 * (see runtime/fault.ts): the process dies right after a new segment file is
 * created, before its header is written — the worst moment of a rotation.
 * Used only when `SLUICE_FAULT` arms that point.
 */
import { type DurableFs, nodeDurableFs } from "../../runtime/durable-fs.ts";
import { crashPoint } from "../../runtime/fault.ts";
import { parseSegmentFileName } from "./format.ts";

export function crashingFs(inner: DurableFs = nodeDurableFs): DurableFs {
  return {
    ...inner,
    async open(path, how, mode) {
      const file = await inner.open(path, how, mode);
      const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
      const base = parseSegmentFileName(name);
      if (how === "create" && base !== undefined && base > 0) crashPoint("segment-rotation");
      return file;
    },
  };
}
