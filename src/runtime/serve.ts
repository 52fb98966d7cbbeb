/**
 * @module Serving a fetch handler on the runtime we are on: `Bun.serve` on
 * Bun, `Deno.serve` on Deno, `@hono/node-server` on Node. The handler gets
 * the client's address as `env.remoteAddress` (for the rate limit) on all
 * three. Resolves once listening, with the bound address and a `close()`
 * that stops accepting and ends open connections (SSE streams included).
 */
import { runtimeName } from "./detect.ts";

export type FetchHandler = (
  request: Request,
  env: { remoteAddress?: string },
) => Response | Promise<Response>;

export interface ServeOptions {
  readonly hostname: string;
  /** 0 picks a free port. */
  readonly port: number;
}

export interface Served {
  readonly hostname: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

interface BunServer {
  port: number;
  hostname: string;
  stop(closeActive?: boolean): Promise<void> | void;
  requestIP(req: Request): { address: string } | null;
}
interface BunGlobal {
  serve(o: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch(req: Request, server: BunServer): Response | Promise<Response>;
  }): BunServer;
}
interface DenoServer {
  addr: { hostname: string; port: number };
  finished: Promise<void>;
  shutdown(): Promise<void>;
}
interface DenoGlobal {
  serve(
    o: { hostname: string; port: number; onListen?: (a: { hostname: string; port: number }) => void },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
}

function urlOf(hostname: string, port: number): string {
  const h = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `http://${h}:${port}`;
}

export async function serve(fetch: FetchHandler, options: ServeOptions): Promise<Served> {
  const g = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal };
  if (runtimeName === "bun" && g.Bun) {
    const server = g.Bun.serve({
      hostname: options.hostname,
      port: options.port,
      // SSE streams stay open; Bun's default idle timeout (10 s) would cut them.
      idleTimeout: 0,
      fetch: (req, srv) => fetch(req, { remoteAddress: srv.requestIP(req)?.address }),
    });
    return {
      hostname: options.hostname,
      port: server.port,
      url: urlOf(options.hostname, server.port),
      close: async () => {
        await server.stop(true);
      },
    };
  }
  if (runtimeName === "deno" && g.Deno) {
    const deno = g.Deno;
    let server: DenoServer | undefined;
    await new Promise<void>((resolve, reject) => {
      try {
        server = deno.serve(
          { hostname: options.hostname, port: options.port, onListen: () => resolve() },
          (req, info) => fetch(req, { remoteAddress: info.remoteAddr.hostname }),
        );
      } catch (e) {
        reject(e);
      }
    });
    const s = server!;
    return {
      hostname: options.hostname,
      port: s.addr.port,
      url: urlOf(options.hostname, s.addr.port),
      close: async () => {
        await s.shutdown();
      },
    };
  }
  const { createAdaptorServer } = await import("@hono/node-server");
  type Incoming = { socket?: { remoteAddress?: string } };
  const server = createAdaptorServer({
    fetch: (req: Request, env: { incoming?: Incoming }) =>
      fetch(req, { remoteAddress: env.incoming?.socket?.remoteAddress }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : options.port;
  return {
    hostname: options.hostname,
    port,
    url: urlOf(options.hostname, port),
    close: () =>
      new Promise<void>((resolve) => {
        const s = server as unknown as { closeAllConnections?: () => void };
        server.close(() => resolve());
        s.closeAllConnections?.();
      }),
  };
}
