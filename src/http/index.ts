/**
 * @module Public surface of the HTTP layer: `createApp` and what it takes,
 * the store adapter, the CLI entry points and the tagged errors. Everything
 * under `internal/`, `routes/` and `dashboard/` stays private.
 */
export { type AppOptions, createApp, type SluiceApp } from "./app.ts";
export {
  DEFAULT_HOST,
  DEFAULT_PORT,
  resolveBind,
  type ServeFlags,
  serveCommand,
  servePlugin,
} from "./cli.ts";
export {
  BadRequestError,
  CrossSiteWriteError,
  HostNotAllowedError,
  type HttpError,
  NotFoundError,
  PayloadTooLargeError,
  QueriesBusyError,
  RateLimitedError,
  ServeConfigError,
  statusOf,
  UnauthorizedError,
  UnavailableError,
  WritesDisabledError,
} from "./errors.ts";
export { type MetricsStoreLike, storeQueries } from "./store-queries.ts";
export type {
  AlertItem,
  AlertQuery,
  AuthOptions,
  EventItem,
  EventQuery,
  Json,
  JsonObject,
  Limits,
  LiveBus,
  MetricsQueries,
  Page,
  RunListItem,
  RunListQuery,
  RunsSource,
  SeriesMetric,
  SeriesPoint,
  SeriesQuery,
} from "./types.ts";
export { DEFAULT_LIMITS } from "./types.ts";
