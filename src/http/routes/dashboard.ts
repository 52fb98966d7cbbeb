/**
 * @module The dashboard (`/`, `/assets/app.js`, `/assets/app.css`) and the
 * sign-in form for servers with a token: `POST /login` checks the token in
 * constant time and sets it as an HttpOnly, SameSite=Strict cookie, which is
 * how a browser (and its EventSource, which cannot send headers) passes auth.
 */
import type { Hono } from "hono";
import { APP_CSS, INDEX_HTML, LOGIN_HTML } from "../dashboard/page.ts";
import { APP_JS } from "../dashboard/script.ts";
import { TOKEN_COOKIE, tokensEqual } from "../internal/auth.ts";
import type { Env } from "../internal/context.ts";
import type { RouteSpec } from "../openapi.ts";

export const specs: RouteSpec[] = [
  { method: "get", path: "/", summary: "The dashboard", produces: "text/html" },
  {
    method: "get",
    path: "/login",
    summary: "Sign-in form (servers with a token)",
    produces: "text/html",
    public: true,
  },
];

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function register(app: Hono<Env>): void {
  const page = (body: string, type: string) => (c: import("hono").Context) => {
    c.header("Content-Type", type);
    c.header("Cache-Control", "no-cache");
    c.header("Content-Security-Policy", CSP);
    return c.body(body);
  };
  app.get("/", page(INDEX_HTML, "text/html; charset=utf-8"));
  app.get("/assets/app.js", page(APP_JS, "text/javascript; charset=utf-8"));
  app.get("/assets/app.css", page(APP_CSS, "text/css; charset=utf-8"));
  app.get("/favicon.ico", (c) => c.body(null, 204));
}

/** The sign-in routes; they answer without a token (they are how one is given). */
export function registerLogin(app: Hono<Env>, token: string | undefined): void {
  app.get("/login", (c) => {
    c.header("Content-Security-Policy", CSP);
    return c.html(LOGIN_HTML);
  });
  app.post("/login", async (c) => {
    let given = "";
    try {
      const form = await c.req.parseBody();
      given = typeof form.token === "string" ? form.token : "";
    } catch {}
    if (!token || !(await tokensEqual(given, token))) {
      c.header("Content-Security-Policy", CSP);
      return c.html(LOGIN_HTML.replace("<p>", '<p class="alert critical">Wrong token.</p><p>'), 401);
    }
    c.header(
      "Set-Cookie",
      `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`,
    );
    return c.redirect("/", 303);
  });
}
