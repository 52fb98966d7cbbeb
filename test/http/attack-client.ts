/**
 * Helpers of the attack suite: start `attack-server.ts` on a runtime, and a
 * raw HTTP client (node:http) that can send what browsers and attackers send
 * (any Host, Origin, chunked or oversized bodies), each request with a timeout.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { type RuntimeName, repo, scriptCommand } from "../helpers/runtimes.ts";

export interface Target {
  readonly url: string;
  readonly port: number;
  readonly stdout: () => string;
  /** Writes a line to the server's stdin (`release` opens the gated query). */
  say(line: string): void;
  stop(): Promise<void>;
}

export function startTarget(runtime: RuntimeName, config: object): Promise<Target> {
  const [bin, ...args] = scriptCommand(runtime, join(repo, "test/http/attack-server.ts"));
  const child: ChildProcess = spawn(bin, [...args, JSON.stringify(config)], {
    cwd: repo,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime}: no LISTENING in 60 s: ${err}`)), 60_000);
    child.stderr!.on("data", (d) => {
      err += d;
    });
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /LISTENING (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          port: Number(m[2]),
          stdout: () => out,
          say: (line) => child.stdin!.write(`${line}\n`),
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
              child.once("exit", () => {
                clearTimeout(kill);
                done();
              });
              child.stdin!.end();
            }),
        });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} exited ${code}: ${err}`));
    });
  });
}

export interface Reply {
  /** 0: the server cut the connection while the body was being sent, before any answer arrived. */
  readonly status: number;
  /** Body bytes written before the answer or the cut. */
  readonly sent?: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface Send {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /**
   * A string; or `chunked` bytes streamed without Content-Length; or a
   * Content-Length of `sized` bytes of which only the first 1 KiB is sent
   * (the server must answer from the header, not by reading).
   */
  readonly body?: string | { chunked: number } | { sized: number };
  /** Resolve on the status line and headers (for event streams); `close` ends the connection. */
  readonly headOnly?: boolean;
}

/** One request to 127.0.0.1:`port`, failing after 15 s. */
export function send(port: number, path: string, o: Send = {}): Promise<Reply & { close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      method: o.method ?? "GET",
      headers: { Host: `127.0.0.1:${port}`, ...o.headers },
      agent: false,
      timeout: 15_000,
    });
    let answered = false;
    let sent = 0;
    // The raw bytes the server sent: when it answers early and closes while a big
    // body is still being written, the write fails (EPIPE) before Node parses the answer.
    let raw = "";
    req.on("socket", (socket) => {
      socket.on("data", (d: Buffer) => {
        if (raw.length < 65_536) raw += d.toString("latin1");
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${o.method ?? "GET"} ${path}: no answer in 15 s`)));
    req.on("error", (e) => {
      if (answered) return;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      const code = (e as { code?: string }).code;
      if (!m && (code === "EPIPE" || code === "ECONNRESET") && sent > 0) {
        // The server cut the connection mid-body (a reset can drop its 413 on the way).
        answered = true;
        return resolve({ status: 0, headers: {}, text: "", sent, close: () => {} });
      }
      if (!m) return reject(e);
      answered = true;
      resolve({
        status: Number(m[1]),
        headers: {},
        text: raw.slice(raw.indexOf("\r\n\r\n") + 4),
        close: () => {},
      });
    });
    req.on("response", (res) => {
      answered = true;
      const close = () => {
        res.destroy();
        req.destroy();
      };
      if (o.headOnly) return resolve({ status: res.statusCode ?? 0, headers: res.headers, text: "", close });
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, close }));
      res.on("error", reject);
    });
    if (typeof o.body === "string") req.end(o.body);
    else if (o.body && "sized" in o.body) {
      req.setHeader("Content-Length", String(o.body.sized));
      req.write(Buffer.alloc(1024, 120));
    } else if (o.body) {
      // Chunked, in 64 KiB pieces, one per turn of the event loop so that the
      // server's early answer is read before the next piece meets a closed socket.
      let left = o.body.chunked;
      const piece = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        if (answered || req.destroyed) return;
        if (left <= 0) return void req.end();
        left -= piece.length;
        sent += piece.length;
        if (req.write(piece)) setTimeout(pump, 1);
        else req.once("drain", () => setTimeout(pump, 1));
      };
      req.on("error", () => {});
      pump();
    } else req.end();
  });
}
