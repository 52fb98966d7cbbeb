/**
 * Types for the parts of exceljs 4.4 the Excel source uses below its public API (the package has
 * no `exports` map, so these files are importable; exceljs ships no types for them). Only what
 * `xlsx-workbook.ts` touches is declared.
 */
declare module "exceljs/lib/utils/parse-sax.js" {
  export interface SaxEvent {
    readonly eventType: "opentag" | "text" | "closetag";
    readonly value: { readonly name: string; readonly attributes: Record<string, string> } & string;
  }
  export default function parseSax(chunks: AsyncIterable<string>): AsyncGenerator<SaxEvent[]>;
}
declare module "exceljs/lib/xlsx/xform/style/styles-xform.js" {
  export default class StylesXform {
    parseStream(chunks: AsyncIterable<string>): Promise<unknown>;
    getStyleModel(id: number): unknown;
  }
}
declare module "exceljs/lib/xlsx/xform/book/workbook-xform.js" {
  export default class WorkbookXform {
    parseStream(chunks: AsyncIterable<string>): Promise<unknown>;
    readonly model:
      | { readonly sheets?: { name: string; id: number; rId: string; state?: string }[] }
      | undefined;
    readonly map: { readonly workbookPr: { readonly model?: { readonly date1904?: boolean } } };
  }
}
declare module "exceljs/lib/xlsx/xform/core/relationships-xform.js" {
  export default class RelationshipsXform {
    parseStream(chunks: AsyncIterable<string>): Promise<{ Id: string; Target: string; Type: string }[]>;
  }
}
declare module "exceljs/lib/stream/xlsx/worksheet-reader.js" {
  export interface ExcelRow {
    readonly number: number;
    /** Sparse, 1-based by column number. */
    readonly values: unknown[];
  }
  export default class WorksheetReader {
    constructor(init: {
      workbook: { sharedStrings: readonly string[]; styles: unknown; properties: unknown };
      id: number | string;
      iterator: AsyncIterable<string>;
      options: { worksheets: "emit"; hyperlinks: "ignore" };
    });
    [Symbol.asyncIterator](): AsyncIterator<ExcelRow>;
  }
}
