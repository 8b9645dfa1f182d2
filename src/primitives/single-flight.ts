// Concurrent requests for the same derivative share one piece of work. This is the per-node
// version; a cluster can put a cross-node lock behind the same interface.

export interface SingleFlight {
  /** Run make() for key unless a run for key is already in progress, whose result is shared. */
  run<T>(key: string, make: () => Promise<T>): Promise<T>;
}

export class LocalSingleFlight implements SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  run<T>(key: string, make: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing as Promise<T>;
    const p = (async () => {
      try {
        return await make();
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, p);
    return p;
  }

  get size(): number {
    return this.inFlight.size;
  }
}
