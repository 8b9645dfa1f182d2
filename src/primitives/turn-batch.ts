// Lookups gathered until the end of the event loop's turn and answered by one load. Under load,
// many requests reach the same read in one turn (each socket's data is its own callback, all in
// the same poll phase); with a database across the network, one round trip for all of them
// costs the process far less than one each: the query's write, the wake-up of the server, the
// answer's read and parse.
//
// A load answers at the moment it runs, after every request in it arrived, so nothing read this
// way is older than a read of its own would have been.
import { endOfTurn } from './turn-end.ts';

export class TurnBatch<K, V> {
  private pending: Array<{ key: K; resolve: (v: V) => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;

  /**
   * load answers keys in their order (one value per key). It may be given the same key twice.
   * maxBatch: a batch this big goes out at once, without waiting for the turn to end.
   * retryAlone: whether a failed load is asked again key by key (default: always). Say no to
   * failures that would fail each key alike (a database that is down), so callers learn of
   * them after one wait, not two.
   */
  constructor(
    private readonly load: (keys: readonly K[]) => Promise<readonly V[]>,
    private readonly maxBatch: number,
    private readonly retryAlone: (err: unknown) => boolean = () => true,
  ) {
    if (!(maxBatch >= 1)) throw new Error(`TurnBatch: maxBatch must be at least 1, not ${maxBatch}`);
  }

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.pending.push({ key, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // The end of the turn, not a microtask: the check phase comes after every callback of
        // this poll phase, so the requests that arrived together go out together.
        void endOfTurn().then(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.run(batch);
  }

  private run(batch: TurnBatch<K, V>['pending']): void {
    let loaded: Promise<readonly V[]>;
    try {
      loaded = this.load(batch.map((b) => b.key));
    } catch (err) {
      // A load that throws instead of rejecting fails its callers, not the turn's end.
      loaded = Promise.reject(err);
    }
    loaded.then(
      (values) => {
        if (values.length !== batch.length) {
          const err = new Error(`TurnBatch: load answered ${values.length} values for ${batch.length} keys`);
          for (const b of batch) b.reject(err);
          return;
        }
        batch.forEach((b, i) => b.resolve(values[i]!));
      },
      (err: unknown) => {
        // One key must not fail the others: each one is asked again alone, so each gets its own
        // answer or its own error; unless retryAlone says every key would meet this failure.
        if (batch.length === 1 || !this.retryAlone(err)) for (const b of batch) b.reject(err);
        else for (const b of batch) this.run([b]);
      },
    );
  }
}
