// Keeps the bytes of small, hot objects (avatars, thumbnails, voice) in memory, in front of any
// store. An object never changes under its key once written (keys are random per file and per
// derivative), so a cached copy can only go stale by deletion, which evicts it. Bounded by a
// byte budget, least recently used out first.
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { ByteRange, ByteStore, DirectUploads, ObjectInfo, Presigner, StagedObject } from './byte-store.ts';

/** One cached read: a key's range (its bytes never change under the key). */
const cacheId = (key: string, range: ByteRange) => `${key}\u0000${range.start}-${range.end}`;

export class CachedByteStore implements ByteStore {
  private readonly cache: LRUCache<string, Buffer>;
  /** cache ids per key, so deleting a key evicts every range of it that is held */
  private readonly idsOf = new Map<string, Set<string>>();
  readonly presigner?: Presigner;
  readonly directUploads?: DirectUploads;
  readonly abortStaleUploads?: (before: number) => Promise<number>;

  constructor(
    private readonly inner: ByteStore & { readSmall(key: string, range: ByteRange): Promise<Buffer> },
    budgetBytes: number,
  ) {
    this.presigner = inner.presigner;
    this.directUploads = inner.directUploads;
    this.abortStaleUploads = inner.abortStaleUploads?.bind(inner);
    this.cache = new LRUCache<string, Buffer>({
      maxSize: budgetBytes,
      // One object may take a sixteenth of the budget at most: a few large ones must not push
      // out the many small ones the cache is for.
      maxEntrySize: Math.max(1, Math.floor(budgetBytes / 16)),
      sizeCalculation: (b) => Math.max(1, b.length),
      dispose: (_value, id) => this.untrack(id),
    });
  }

  /** Wrap store in a cache of budgetBytes, or return it as it is when there is nothing to cache. */
  static wrap(store: ByteStore, budgetBytes: number): ByteStore {
    if (budgetBytes <= 0 || !store.readSmall) return store;
    return new CachedByteStore(store as ByteStore & { readSmall(key: string, range: ByteRange): Promise<Buffer> }, budgetBytes);
  }

  cachedSmall(key: string, range: ByteRange): Buffer | undefined {
    return this.cache.get(cacheId(key, range));
  }

  async readSmall(key: string, range: ByteRange): Promise<Buffer> {
    const id = cacheId(key, range);
    const hit = this.cache.get(id);
    if (hit) return hit;
    const buf = await this.inner.readSmall(key, range);
    this.cache.set(id, buf);
    if (this.cache.has(id)) {
      let ids = this.idsOf.get(key);
      if (!ids) this.idsOf.set(key, (ids = new Set()));
      ids.add(id);
    }
    return buf;
  }

  async delete(key: string): Promise<void> {
    for (const id of [...(this.idsOf.get(key) ?? [])]) this.cache.delete(id);
    await this.inner.delete(key);
  }

  /** how many bytes the cache holds (operators and tests read it) */
  get cachedBytes(): number {
    return this.cache.calculatedSize;
  }

  private untrack(id: string): void {
    const key = id.slice(0, id.indexOf('\u0000'));
    const ids = this.idsOf.get(key);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) this.idsOf.delete(key);
  }

  init(): Promise<void> {
    return this.inner.init();
  }
  stage(key: string, source: Readable, contentType: string): Promise<StagedObject> {
    return this.inner.stage(key, source, contentType);
  }
  read(key: string, range?: ByteRange): Promise<Readable> {
    return this.inner.read(key, range);
  }
  head(key: string): Promise<ObjectInfo | null> {
    return this.inner.head(key);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  locator(key: string): string {
    return this.inner.locator(key);
  }
}
