/**
 * @module A small pool for store queries: at most `perClient` in flight per
 * client and `total` in the server. Beyond either the request is refused at
 * once (429 for the client's own share, 503 for the server's) with
 * Retry-After, rather than queued: a client firing a hundred list requests
 * at once must not starve `/health`, the dashboard of another client, or the
 * live run whose thread answers the store calls. Cheap routes (`/health`,
 * `/metrics`, the dashboard's files) do not take a slot.
 */
import { QueriesBusyError } from "../errors.ts";

export class QueryPool {
  readonly #perClient = new Map<string, number>();
  #total = 0;

  constructor(
    private readonly perClient: number,
    private readonly total: number,
  ) {}

  /** Takes a slot for `client`; returns its release, or throws a `QueriesBusyError`. */
  acquire(client: string): () => void {
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.perClient) throw new QueriesBusyError("client", this.perClient);
    if (this.#total >= this.total) throw new QueriesBusyError("server", this.total);
    this.#perClient.set(client, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const n = (this.#perClient.get(client) ?? 1) - 1;
      if (n <= 0) this.#perClient.delete(client);
      else this.#perClient.set(client, n);
    };
  }

  /** Queries in flight (for tests and `/metrics`). */
  get inFlight(): number {
    return this.#total;
  }
}
