// Single flight across nodes: on one node concurrent callers share one run (LocalSingleFlight);
// across nodes a lease row in the shared database lets one node work while the others wait
// for the lease and then run make() themselves, which finds the finished work recorded (the
// derivative pipeline looks it up first) instead of doing it again.
import { randomBytes } from 'node:crypto';
import type { MetaStore } from '../meta/meta-store.ts';
import { LocalSingleFlight, type SingleFlight } from '../primitives/single-flight.ts';

interface LeaseOptions {
  /** how long a lease holds if its node dies mid-work; longer than any one piece of work */
  ttlMs: number;
  /** how often a waiting node looks at the lease again */
  pollMs?: number;
}

export class LeaseSingleFlight implements SingleFlight {
  private readonly local = new LocalSingleFlight();
  private readonly holder = randomBytes(9).toString('base64url');

  constructor(
    private readonly meta: MetaStore,
    private readonly opts: LeaseOptions,
  ) {}

  run<T>(key: string, make: () => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      const name = `flight:${key}`;
      const poll = this.opts.pollMs ?? 100;
      while (!(await this.meta.acquireLease(name, this.holder, Date.now(), this.opts.ttlMs))) {
        await new Promise((r) => setTimeout(r, poll));
      }
      try {
        return await make();
      } finally {
        await this.meta.releaseLease(name, this.holder).catch(() => {});
      }
    });
  }
}
