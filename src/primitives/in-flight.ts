// A set of promises still running, so shutdown can wait for them to settle (uploads still
// discarding staged bytes and giving their slots back after their client went away).
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  /** Track p until it settles; returns p. */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const forget = () => void this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  get size(): number {
    return this.running.size;
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
