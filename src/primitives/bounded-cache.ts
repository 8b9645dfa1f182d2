// An LRU bounded by its number of entries that takes memory only as it fills. lru-cache's `max`
// allocates its whole index up front (a 100,000-entry cache is ~3 MB before its first entry),
// and a Ferry process holds a dozen such caches, most of them nearly empty on a small
// deployment: together ~20 MB of an idle process. Bounding by `maxSize` with every entry sized
// 1 keeps the same bound and the same eviction order without that.
import { LRUCache } from 'lru-cache';

type Extra<K extends NonNullable<unknown>, V extends NonNullable<unknown>> = Pick<LRUCache.OptionsBase<K, V, unknown>, 'ttl' | 'updateAgeOnGet' | 'dispose'>;

export function boundedCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(entries: number, options: Extra<K, V> = {}): LRUCache<K, V> {
  return new LRUCache<K, V>({ ...options, maxSize: entries, sizeCalculation: () => 1 });
}
