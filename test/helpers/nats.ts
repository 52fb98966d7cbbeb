/**
 * Test helper: a real nats-server (Debian's `nats-server`, 2.9.10 here) with JetStream on
 * 127.0.0.1, a free port and a temporary store dir. `requireNats(ctx)` fails under CI=true
 * when the binary is missing and skips elsewhere saying what to install. `stop()` kills the
 * server (SIGKILL when `hard`) and `restart()` starts it again on the same port and store dir,
 * for the "kill -9 nats-server" fault tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool, requireTool } from "./tools.ts";

export const NATS_SERVER = process.env.NATS_SERVER ?? "nats-server";
let present: boolean | undefined;

export function natsServerPresent(): boolean {
  present ??= hasTool(NATS_SERVER, ["--version"]);
  return present;
}

export function requireNats(ctx: { skip: (note?: string) => void }): void {
  requireTool(ctx, natsServerPresent(), "nats-server", "apt-get install -y nats-server");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the server: SIGKILL when `hard`, else SIGTERM; resolves when it has exited. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and store dir. */
  restart(): Promise<void>;
  /** Stops it and removes the store dir. */
  dispose(): Promise<void>;
}

async function waitListening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}):\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok && /Server is ready/.test(log())) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not start on ${port} in 10 s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts nats-server with JetStream on 127.0.0.1 (call `requireNats` first). */
export async function startNats(): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "sluice-nats-"));
  let child: ChildProcess | undefined;
  let output = "";
  const launch = async () => {
    output = "";
    const c = spawn(NATS_SERVER, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    c.stdout?.on("data", (d) => {
      output += String(d);
    });
    c.stderr?.on("data", (d) => {
      output += String(d);
    });
    child = c;
    await waitListening(port, c, () => output);
  };
  const stop = async (hard = false) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(hard ? "SIGKILL" : "SIGTERM");
    });
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    restart: launch,
    async dispose() {
      await stop(true);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
