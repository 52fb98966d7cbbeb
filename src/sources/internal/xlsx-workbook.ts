/**
 * @module An .xlsx workbook opened for streaming: its sheet list, shared strings and styles are
 * read first (through the zip directory, `xlsx-zip.ts`), then one sheet's rows stream through
 * exceljs's own `WorksheetReader`, which types the cells (numbers, booleans, strings, dates from
 * the cell's number format, in the 1900 or 1904 date system, formulas with their cached result).
 *
 * What stays in memory: the shared-strings table (every distinct text of the workbook, as
 * strings; Excel stores most text there), the styles, and the row being read. Nothing grows with
 * the number of rows. Text arrives already decoded (a streaming `TextDecoder`), so a character
 * split between two reads stays whole: exceljs's `WorkbookReader` decodes each read apart, and
 * turned 24 of 30,000 rows of multi-byte inline strings into U+FFFD (measured, exceljs 4.4).
 */

import WorksheetReader, { type ExcelRow } from "exceljs/lib/stream/xlsx/worksheet-reader.js";
import parseSax from "exceljs/lib/utils/parse-sax.js";
import WorkbookXform from "exceljs/lib/xlsx/xform/book/workbook-xform.js";
import RelationshipsXform from "exceljs/lib/xlsx/xform/core/relationships-xform.js";
import StylesXform from "exceljs/lib/xlsx/xform/style/styles-xform.js";
import { fs } from "../../runtime/fs.ts";
import { readZipDirectory, readZipText, type ZipEntry, ZipFormatProblem } from "./xlsx-zip.ts";

export type { ExcelRow };
export { ZipFormatProblem };

export interface SheetInfo {
  readonly name: string;
  /** 1-based position in the workbook's sheet list. */
  readonly position: number;
  readonly state?: string;
  readonly entry: ZipEntry;
}

export interface OpenWorkbook {
  readonly path: string;
  readonly sheets: readonly SheetInfo[];
  readonly sharedStrings: readonly string[];
  readonly styles: StylesXform;
  readonly properties: unknown;
}

function need(entries: Map<string, ZipEntry>, name: string): ZipEntry {
  const e = entries.get(name);
  if (!e) throw new ZipFormatProblem(`not an .xlsx workbook: the archive has no ${name}`);
  return e;
}

/** Reads the workbook's sheet list, shared strings and styles. */
export async function openWorkbook(path: string): Promise<OpenWorkbook> {
  const size = (await fs.stat(path))?.size ?? 0;
  const entries = await readZipDirectory(path, size);
  const rels = await new RelationshipsXform().parseStream(
    readZipText(path, need(entries, "xl/_rels/workbook.xml.rels")),
  );
  const book = new WorkbookXform();
  await book.parseStream(readZipText(path, need(entries, "xl/workbook.xml")));
  const sheets: SheetInfo[] = [];
  for (const [i, s] of (book.model?.sheets ?? []).entries()) {
    const target = rels.find((r) => r.Id === s.rId)?.Target;
    if (!target) continue;
    const name = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
    const entry = entries.get(name);
    if (entry) sheets.push({ name: s.name, position: i + 1, state: s.state, entry });
  }
  const strings = entries.get("xl/sharedStrings.xml");
  const sharedStrings = strings ? await readSharedStrings(readZipText(path, strings)) : [];
  const styles = new StylesXform();
  const stylesEntry = entries.get("xl/styles.xml");
  if (stylesEntry) await styles.parseStream(readZipText(path, stylesEntry));
  return { path, sheets, sharedStrings, styles, properties: book.map.workbookPr };
}

/**
 * The shared strings as plain text: a rich-text string is the text of its runs; phonetic guides
 * (`rPh`) are left out, as Excel shows them.
 */
async function readSharedStrings(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  let text = "";
  let inT = false;
  let phonetic = 0;
  for await (const events of parseSax(chunks)) {
    for (const { eventType, value } of events) {
      if (eventType === "opentag") {
        if (value.name === "si") text = "";
        else if (value.name === "t") inT = phonetic === 0;
        else if (value.name === "rPh") phonetic++;
      } else if (eventType === "text") {
        if (inT) text += value;
      } else if (value.name === "t") inT = false;
      else if (value.name === "rPh") phonetic--;
      else if (value.name === "si") out.push(text);
    }
  }
  return out;
}

/** The rows of one sheet, in order (rows Excel did not store, being empty, are not there). */
export function sheetRows(
  book: OpenWorkbook,
  sheet: SheetInfo,
  signal?: AbortSignal,
  onRead?: (offset: number) => void,
): AsyncIterable<ExcelRow> {
  return new WorksheetReader({
    workbook: { sharedStrings: book.sharedStrings, styles: book.styles, properties: book.properties },
    id: sheet.position,
    iterator: readZipText(book.path, sheet.entry, signal, onRead),
    options: { worksheets: "emit", hyperlinks: "ignore" },
  });
}
