/**
 * @module Public sinks (`sluice/sinks`).
 */
export { type CollectSink, collect } from "./collect.ts";
export { console } from "./console.ts";
export { CsvSinkOptions, csv } from "./csv.ts";
export { DuckDBSinkOptions, duckdb } from "./duckdb.ts";
export { type FileFormat, fileSink } from "./internal/file-sink.ts";
export { JetStreamSinkOptions, jetstream } from "./jetstream.ts";
export { ndjson } from "./ndjson.ts";
export { ParquetSinkOptions, parquet } from "./parquet.ts";
