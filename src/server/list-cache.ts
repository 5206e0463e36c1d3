import type { ServerResponse } from 'node:http';
import type { FleetResponse, UnitRegistry } from '../units/index.js';

/**
 * The hot path of a fleet daemon is the collection GETs (`/fleet/v1/units`, `/state`, `/machines`)
 * that dashboards and `fleetctl list-units` loops poll: each one otherwise reads every unit from
 * SQLite, asks the engine for its containers and serialises a page. This keeps each page's bytes
 * for a short time and serves them as they are.
 *
 * Consistency: any write request (PUT, POST, DELETE, PATCH on any path) drops everything once its
 * response is sent, so a client always reads its own writes. Changes the API does not make (a
 * container that dies, the periodic reconcile) show within `ttlMs` at the latest — fresher than
 * fleet, whose states come from agents' periodic reports. An entry older than `ttlMs / 2` is
 * still served while one request refreshes it in the background, so polling clients never wait
 * for a recomputation unless something was just written.
 */
export class ListCache {
  private generation = 0;
  private readonly pages = new Map<string, Entry<Page>>();
  private readonly reads = new Map<string, Entry<unknown>>();

  constructor(
    /** Longest time an answer may lag changes made outside the API; 0 disables the cache. */
    private readonly ttlMs = 1000,
    private readonly now: () => number = () => performance.now(),
    private readonly maxPages = 512,
  ) {}

  /** The collection paths whose GETs are cached. */
  covers(method: string, path: string): boolean {
    return this.ttlMs > 0 && method === 'GET' && /^\/(fleet\/v1|v1-alpha)\/(units|state|machines)\/?$/.test(path);
  }

  /** Forgets everything (a write happened). */
  invalidate(): void {
    this.generation++;
    this.pages.clear();
    this.reads.clear();
  }

  /** Drops everything once this (write) response has gone out. */
  invalidateAfter(res: ServerResponse): void {
    res.once('finish', () => this.invalidate());
    res.once('close', () => this.invalidate());
  }

  /** Answers from the cache, or computes (once, however many requests wait), stores and answers. */
  async serve(res: ServerResponse, key: string, compute: () => Promise<FleetResponse>): Promise<void> {
    const p = await this.cached(this.pages, key, true, async () => {
      const r = await compute();
      const bytes = r.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(r.body));
      // Only answers worth repeating are kept (a 400 for a bad page token is not).
      return { status: r.status, headers: { ...r.headers, 'content-length': String(bytes.length) }, bytes, keep: r.status === 200 };
    });
    res.writeHead(p.status, p.headers);
    res.end(p.bytes);
    if (this.pages.size > this.maxPages) this.pages.delete(this.pages.keys().next().value!);
  }

  /** The registry with its collection reads shared by concurrent page computations. */
  registry(r: UnitRegistry): UnitRegistry {
    const shared = <T>(key: string, read: () => Promise<T>) => this.cached(this.reads as Map<string, Entry<{ v: T; keep: boolean }>>, key, false, async () => ({ v: await read(), keep: true })).then((x) => x.v);
    const view = Object.create(r) as UnitRegistry;
    view.list = () => shared('list', () => r.list());
    view.states = () => shared('states', () => r.states());
    view.machines = () => shared('machines', () => r.machines());
    return view;
  }

  /**
   * Fresh (younger than ttl/2) or in-flight: shared. Older but younger than ttl, with `revalidate`:
   * served while one background computation replaces it. Otherwise: computed now, shared.
   */
  private cached<T extends { keep: boolean }>(map: Map<string, Entry<T>>, key: string, revalidate: boolean, compute: () => Promise<T>): Promise<T> {
    const e = map.get(key);
    if (e && e.generation === this.generation) {
      const age = this.now() - e.at;
      if (!e.settled || age < this.ttlMs / 2) return e.value;
      if (revalidate && age < this.ttlMs) {
        if (!e.refreshing) {
          e.refreshing = true;
          this.start(map, key, compute, false).catch(() => undefined);
        }
        return e.value;
      }
    }
    return this.start(map, key, compute, true);
  }

  /** Computes; the entry is visible at once (`now`), or — a background refresh — once it is ready. */
  private start<T extends { keep: boolean }>(map: Map<string, Entry<T>>, key: string, compute: () => Promise<T>, now: boolean): Promise<T> {
    const generation = this.generation;
    const entry: Entry<T> = { generation, at: this.now(), value: undefined as unknown as Promise<T>, settled: false, refreshing: false };
    entry.value = compute().then(
      (v) => {
        entry.settled = true;
        // Nothing written meanwhile: keep it (a refresh replaces the answer it refreshed).
        if (v.keep && this.generation === generation) map.set(key, entry);
        else if (map.get(key) === entry) map.delete(key);
        return v;
      },
      (err: unknown) => {
        if (map.get(key) === entry) map.delete(key);
        throw err;
      },
    );
    if (now) map.set(key, entry);
    return entry.value;
  }
}

interface Entry<T> {
  generation: number;
  at: number;
  value: Promise<T>;
  settled: boolean;
  refreshing: boolean;
}

interface Page {
  status: number;
  headers: Record<string, string>;
  bytes: Buffer;
  keep: boolean;
}
