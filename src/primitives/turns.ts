// How many of something each key has running, with a cap: take a turn, give it back when done.
export class Turns {
  private readonly counts = new Map<string, number>();

  /** A turn for key, or null when key already has max running. The returned function gives it back (once). */
  take(key: string, max: number): (() => void) | null {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return null;
    this.counts.set(key, n + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
    };
  }

  running(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
