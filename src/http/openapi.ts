/**
 * @module The OpenAPI 3.1 document, generated from the same zod schemas that
 * validate requests (zod's JSON Schema output is JSON Schema 2020-12, which
 * OpenAPI 3.1 uses as is). Each route module lists its `RouteSpec`s; the app
 * serves the document at `/openapi.json`.
 */
import { z } from "zod";
import { ErrorResponse } from "./schemas.ts";

export interface RouteSpec {
  readonly method: "get" | "post" | "put";
  /** OpenAPI path template (`/api/runs/{id}`). */
  readonly path: string;
  readonly summary: string;
  readonly query?: z.ZodObject;
  readonly params?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly response?: z.ZodType;
  /** Media type of a non-JSON success response. */
  readonly produces?: string;
  /** Needs `--allow-writes`. */
  readonly write?: boolean;
  /** Answers without a token (liveness, login). */
  readonly public?: boolean;
  /** More answers, described: a 202 has the `response` shape, a 409 the error shape. */
  readonly more?: Readonly<Partial<Record<"202" | "409", string>>>;
}

type JsonSchema = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: "input" | "output"): JsonSchema {
  const j = z.toJSONSchema(s, { io, unrepresentable: "any" }) as JsonSchema;
  delete j.$schema;
  return j;
}

function parameters(obj: z.ZodObject | undefined, where: "query" | "path"): JsonSchema[] {
  if (!obj) return [];
  const j = schemaOf(obj, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(j.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === "path" || (j.required ?? []).includes(name),
    ...(schema.type === "array" ? { style: "form", explode: true } : {}),
    schema,
  }));
}

export function openApiDocument(specs: readonly RouteSpec[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const error = { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  for (const r of specs) {
    const responses: Record<string, JsonSchema> = {
      "200": r.produces
        ? { description: "OK", content: { [r.produces]: {} } }
        : {
            description: "OK",
            content: { "application/json": { schema: r.response ? schemaOf(r.response, "output") : {} } },
          },
      "400": { description: "A parameter or field is invalid; `error.field` names it", ...error },
      "403": { description: "The Host header is not a name this server answers to", ...error },
      "429": {
        description: "Rate limit, or this client's store queries in flight; see Retry-After",
        ...error,
      },
    };
    if (!r.public) responses["401"] = { description: "Missing or wrong bearer token", ...error };
    if (r.write)
      responses["403"] = {
        description:
          "Writes are off (--allow-writes), the Host is not allowed, or a cross-site write (not application/json, another Origin, or no Origin without a token)",
        ...error,
      };
    if (r.path.startsWith("/api/"))
      responses["503"] = { description: "Too many store queries in flight; see Retry-After", ...error };
    if (r.path.includes("{")) responses["404"] = { description: "Not found", ...error };
    if (r.body) responses["413"] = { description: "Body too large", ...error };
    if (r.more?.["202"])
      responses["202"] = {
        description: r.more["202"],
        content: { "application/json": { schema: r.response ? schemaOf(r.response, "output") : {} } },
      };
    if (r.more?.["409"]) responses["409"] = { description: r.more["409"], ...error };
    const op: JsonSchema = {
      summary: r.summary,
      parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query")],
      responses,
    };
    if (r.public) op.security = [];
    if (r.body)
      op.requestBody = {
        required: true,
        content: { "application/json": { schema: schemaOf(r.body, "input") } },
      };
    paths[r.path] ??= {};
    paths[r.path][r.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "sluice",
      version,
      description:
        "Runs, events, metrics, alerts and insights of sluice pipelines. With a token configured every route but /health needs `Authorization: Bearer <token>`.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: schemaOf(ErrorResponse, "output") },
    },
    paths,
  };
}
