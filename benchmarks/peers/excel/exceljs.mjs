// exceljs peer of the Excel benchmark: what a user's script does to stream a sheet with exceljs
// directly (`stream.xlsx.WorkbookReader`, shared strings and styles cached so dates are typed),
// run as `node exceljs.mjs FILE`; the header row is skipped, as the sluice pipeline does.
import process from "node:process";
import ExcelJS from "exceljs";

let rows = 0;
let checksum = 0;
const reader = new ExcelJS.stream.xlsx.WorkbookReader(process.argv[2], {
  sharedStrings: "cache",
  styles: "cache",
  hyperlinks: "ignore",
  worksheets: "emit",
});
for await (const sheet of reader) {
  for await (const row of sheet) {
    if (sheet.name !== "Orders" || row.number === 1) continue;
    checksum += row.values[2].length;
    rows++;
  }
}
process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
