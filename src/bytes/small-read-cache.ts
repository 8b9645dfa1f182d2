// Keeps the bytes of small, hot objects (avatars, thumbnails, voice) in memory. An object never
// changes under its key once written (keys are random per file and per derivative), so a cached
// copy can only go stale by deletion, which evicts it. Bounded by a byte budget, least recently
// used out first.
import type { ByteRange, ByteStore } from './byte-store.ts';

export class SmallReadCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  get(id: string): Buffer | undefined {
    const hit = this.entries.get(id);
    if (hit) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.entries.delete(id);
      this.entries.set(id, hit);
    }
    return hit;
  }

  set(id: string, value: Buffer): void {
    if (value.length > this.budget / 16) return;
    this.delete(id);
    this.entries.set(id, value);
    this.bytes += value.length;
    for (const [oldest, buf] of this.entries) {
      if (this.bytes <= this.budget) break;
      this.entries.delete(oldest);
      this.bytes -= buf.length;
    }
  }

  delete(id: string): void {
    const old = this.entries.get(id);
    if (old) {
      this.entries.delete(id);
      this.bytes -= old.length;
    }
  }

  deletePrefix(prefix: string): void {
    for (const id of [...this.entries.keys()]) if (id.startsWith(prefix)) this.delete(id);
  }
}

/** Route a store's readSmall through a cache, and its delete through eviction. */
export function cacheSmallReads(store: ByteStore, budgetBytes: number): ByteStore {
  const readSmall = store.readSmall?.bind(store);
  if (!readSmall || budgetBytes <= 0) return store;
  const cache = new SmallReadCache(budgetBytes);
  const remove = store.delete.bind(store);
  store.readSmall = async (key: string, range: ByteRange) => {
    const id = `${key}\u0000${range.start}-${range.end}`;
    const hit = cache.get(id);
    if (hit) return hit;
    const buf = await readSmall(key, range);
    cache.set(id, buf);
    return buf;
  };
  store.delete = async (key: string) => {
    cache.deletePrefix(`${key}\u0000`);
    await remove(key);
  };
  return store;
}
