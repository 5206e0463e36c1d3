/** One lock per unit name: `acquire` waits for it, `tryAcquire` takes it only if it is free. */
export class UnitLocks {
  private readonly holders = new Map<string, Promise<void>>();

  held(name: string): boolean {
    return this.holders.has(name);
  }

  async acquire(name: string): Promise<() => void> {
    for (;;) {
      const busy = this.holders.get(name);
      if (!busy) break;
      await busy;
    }
    return this.take(name);
  }

  tryAcquire(name: string): (() => void) | undefined {
    return this.holders.has(name) ? undefined : this.take(name);
  }

  private take(name: string): () => void {
    let done!: () => void;
    const p = new Promise<void>((resolve) => (done = resolve));
    this.holders.set(name, p);
    return () => {
      if (this.holders.get(name) === p) this.holders.delete(name);
      done();
    };
  }
}
