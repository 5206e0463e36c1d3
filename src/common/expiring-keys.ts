/**
 * A bounded set of keys that expire: each is kept `ttlMs` after it was added (in the clock's
 * milliseconds), and past `max` keys the oldest are dropped first. Keys are kept in the order they
 * were added, so expired ones are always at the front and a sweep stops at the first live one.
 * The base of the daemon's dashboard sessions (SessionStore) and the deploy hook's delivery log
 * (DeliveryLog), which add their own meaning on top.
 */
export class ExpiringKeys {
  private readonly until = new Map<string, number>();
  constructor(
    readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.until.size;
  }

  /** Adds the key (or restarts its time), then drops the oldest keys past `max`. */
  add(key: string): void {
    this.until.delete(key);
    this.until.set(key, this.now() + this.ttlMs);
    while (this.until.size > this.max) this.until.delete(this.until.keys().next().value!);
  }

  /** Whether the key was added and has not expired (an expired key is forgotten). */
  has(key: string): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.until.delete(key);
      return false;
    }
    return true;
  }

  delete(key: string): void {
    this.until.delete(key);
  }

  /** Forgets every expired key. */
  sweep(): void {
    const t = this.now();
    for (const [k, until] of this.until) {
      if (until > t) break;
      this.until.delete(k);
    }
  }
}
