/**
 * Runs on node, bun and deno (see decode.test.ts): decodes every case of
 * decode-values.ts with the fast journal decoder and with `@msgpack/msgpack`,
 * twice (the second time from the string cache), and prints how many agree.
 */
import { isDeepStrictEqual } from "node:util";
import { Decoder, encode } from "@msgpack/msgpack";
import { FastDecoder } from "../../src/journal/internal/decode.ts";
import { decodeCases } from "./decode-values.ts";

const fast = new FastDecoder();
const lib = new Decoder();
const cases = decodeCases();
let same = 0;
const differ: number[] = [];
for (let round = 0; round < 2; round++) {
  cases.forEach((v, i) => {
    const bytes = encode(v);
    if (isDeepStrictEqual(fast.decode(bytes), lib.decode(bytes))) same++;
    else differ.push(i);
  });
}
console.log(JSON.stringify({ cases: cases.length * 2, same, differ }));
