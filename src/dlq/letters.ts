/**
 * @module Reading a run's dead letters: `<run dir>/dead-letter.ndjson`, one
 * `dead.letter` event a line (written by the runner at each checkpoint). Each
 * letter is known by its index in that file, which never changes: the file
 * only grows while the run runs (resume truncates to the checkpoint's length,
 * then appends), and a redrive never rewrites it — what became of each letter
 * is in the run's redrive ledger (`ledger.ts`).
 */
import type { EventOf } from "../events/schema.ts";
import { StateError } from "../pipeline/errors.ts";
import { fs, paths } from "../runtime/fs.ts";

export const DEAD_LETTER_FILE = "dead-letter.ndjson";

export type DeadLetterEvent = EventOf<"dead.letter">;

/** A dead letter and its index in the run's dead-letter file. */
export interface Letter {
  readonly index: number;
  readonly event: DeadLetterEvent;
}

/** The dead letters of the run in `runDir`, in the order they were written (none when the file is missing). */
export async function readLetters(runDir: string): Promise<Letter[]> {
  const file = paths.join(runDir, DEAD_LETTER_FILE);
  if (!(await fs.stat(file))) return [];
  const text = await fs.readText(file);
  const letters: Letter[] = [];
  let index = 0;
  for (const line of text.split("\n")) {
    // A crash can leave a last line without its newline: it was never checkpointed.
    if (line.length === 0) continue;
    let event: DeadLetterEvent;
    try {
      event = JSON.parse(line) as DeadLetterEvent;
    } catch (e) {
      if (!text.endsWith(`${line}\n`)) break;
      throw new StateError(`${file}: line ${index + 1} is not JSON: ${(e as Error).message}`, {
        hint: "The dead-letter file was edited or damaged; restore it from the run's journal (sluice events RUN --kind dead.letter).",
      });
    }
    letters.push({ index, event });
    index++;
  }
  return letters;
}
