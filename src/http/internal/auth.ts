/**
 * @module Bearer-token checks. Tokens are compared in constant time: both
 * sides are hashed with SHA-256 first (so their lengths do not matter) and
 * the digests compared without an early exit. The token is never logged,
 * echoed or put in a metric.
 */

const encoder = new TextEncoder();

async function digest(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
}

/** True when `given` equals `expected`, in time independent of where they differ. */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** The token in `Authorization: Bearer …`, else in the `sluice_token` cookie the login form sets. */
export function presentedToken(
  authorization: string | undefined,
  cookie: string | undefined,
): string | undefined {
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m ? m[1] : undefined;
  }
  if (cookie) {
    for (const part of cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === TOKEN_COOKIE) return decodeURIComponent(v.join("="));
    }
  }
  return undefined;
}

export const TOKEN_COOKIE = "sluice_token";

/** Loopback addresses, the only ones the server binds without a token: all of 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
