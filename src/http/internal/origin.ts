/**
 * @module What the server trusts about where a request comes from.
 *
 * DNS rebinding: a page on `evil.example` re-points its name at 127.0.0.1
 * and then reads the API as same-origin; its requests carry
 * `Host: evil.example:PORT`. So every request's Host must be a name this
 * server answers to: the bound address, the loopback names for a loopback
 * bind (`localhost`, `127.0.0.1`, `[::1]`), any IP literal for a wildcard bind
 * (0.0.0.0, ::: a rebinding page always sends a DNS name), and what
 * `--allowed-hosts` adds. Names are checked, not ports (a rebinding page uses
 * the server's own port anyway); an allow-list entry with a port matches that
 * port only.
 *
 * Cross-site writes: a form on any page can POST to loopback without a
 * preflight. So a write (any method but GET/HEAD/OPTIONS) must carry
 * `Content-Type: application/json` (a form cannot set it; a script on
 * another origin then needs a preflight, which this server never grants) and
 * an `Origin` equal to the request's own host; a request without `Origin`
 * (curl, scripts) is accepted only when the server has a token, which the
 * token check has verified by then. `POST /login` is a form by design: only
 * its Origin is checked.
 */
import { CrossSiteWriteError, HostNotAllowedError } from "../errors.ts";
import { isLoopback } from "./auth.ts";

const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `host[:port]` split, lower-cased, IPv6 kept in brackets, a trailing dot dropped; undefined when malformed. */
export function parseHost(value: string): { name: string; port?: string } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  const name = m[1].toLowerCase().replace(/\.$/, "");
  return name ? { name, port: m[2] } : undefined;
}

function bracketed(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

export interface HostPolicy {
  /** Throws a `HostNotAllowedError` unless `host` (a Host header) is one the server answers to. */
  check(host: string): void;
  /** The names accepted, for messages and docs. */
  readonly names: readonly string[];
}

/**
 * The Host allow-list for a server bound to `bindHost` (default 127.0.0.1).
 *
 * @example
 * ```ts
 * hostPolicy("127.0.0.1", ["dash.internal:8443"]).check("localhost:7878"); // ok
 * hostPolicy("127.0.0.1").check("evil.example:7878"); // throws HostNotAllowedError
 * ```
 */
export function hostPolicy(bindHost = "127.0.0.1", extra: readonly string[] = []): HostPolicy {
  const bind = bracketed(bindHost.toLowerCase());
  const wildcard = WILDCARD.has(bind);
  const names = new Set<string>();
  if (!wildcard) names.add(bind);
  if (isLoopback(bind) || wildcard) for (const n of ["localhost", "127.0.0.1", "[::1]"]) names.add(n);
  const withPort = new Set<string>();
  for (const entry of extra) {
    const p = parseHost(entry);
    if (!p) continue;
    if (p.port) withPort.add(`${p.name}:${p.port}`);
    else names.add(p.name);
  }
  const shown = [...names, ...withPort, ...(wildcard ? ["any IP address"] : [])];
  return {
    names: shown,
    check(host) {
      const p = parseHost(host);
      const ok =
        p !== undefined &&
        (names.has(p.name) ||
          (p.port !== undefined && withPort.has(`${p.name}:${p.port}`)) ||
          (wildcard && (IPV4.test(p.name) || p.name.startsWith("["))));
      if (!ok) throw new HostNotAllowedError(host.slice(0, 100), shown);
    },
  };
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Refuses a write a page on another site could have sent. `host` is the
 * request's (already allowed) Host; `hasToken` says the server checks tokens.
 */
export function checkWrite(
  req: { method: string; path: string; host: string; origin?: string; contentType?: string },
  hasToken: boolean,
): void {
  const what = `${req.method} ${req.path}`;
  if (req.origin !== undefined) {
    let originHost: string | undefined;
    try {
      const u = new URL(req.origin);
      if (u.protocol === "http:" || u.protocol === "https:") originHost = u.host;
    } catch {}
    if (originHost === undefined || originHost.toLowerCase() !== req.host.toLowerCase())
      throw new CrossSiteWriteError(
        `${what} came from another origin (${req.origin.slice(0, 100)}); writes are accepted only from this server's own pages`,
      );
  } else if (!hasToken && req.path !== "/login") {
    throw new CrossSiteWriteError(
      `${what} has no Origin header and this server has no token: send the Origin of this server ` +
        `(e.g. -H 'Origin: http://${req.host.slice(0, 100)}'), or start the server with a token (SLUICE_TOKEN)`,
    );
  }
  if (req.path !== "/login" && !JSON_TYPE.test(req.contentType ?? ""))
    throw new CrossSiteWriteError(
      `${what} needs Content-Type: application/json (a form on another page cannot send that); send '{}' when there is nothing to say`,
    );
}
