// Readiness: may a load balancer send this node requests? Yes when the database and the store
// both answer and the node is not shutting down. Load balancers poll it every second or so, on
// every node: the answer is kept for a second, one check runs at a time, and a check that hangs
// (PostgreSQL behind a dropped network) is cut off after a timeout instead of piling up.
import type { MetaStore } from './meta/meta-store.ts';
import type { ByteStore } from './bytes/byte-store.ts';

/** The parts readiness checks, as named in /readyz answers. */
export type Dependency = 'database' | 'store';

/**
 * ok; unreachable: the check failed; timeout: no answer in time. The cause goes to the log, not
 * into the answer: /readyz needs no credentials, and driver messages name hosts and folders.
 */
export type CheckState = 'ok' | 'unreachable' | 'timeout';

export interface Readiness {
  ready: boolean;
  /** set while shutting down: the node finishes what it has and takes nothing new */
  draining: boolean;
  checks: Record<Dependency, CheckState>;
}

/** Told when a dependency changes state, with the cause, so the log says when and why. */
export type OnChange = (dependency: Dependency, state: CheckState, cause: string | null) => void;

/** How long one answer is reused: polling every second costs one query per second at most. */
const CACHE_MS = 1000;
/** How long one check may take before the dependency counts as not answering. */
const CHECK_TIMEOUT_MS = 2000;

export class ReadinessCheck {
  private draining = false;
  private last: { at: number; checks: Record<Dependency, CheckState> } | null = null;
  private running: Promise<Record<Dependency, CheckState>> | null = null;
  private readonly states = new Map<Dependency, CheckState>();
  /** a ping still unanswered after its timeout: no second one is sent while it hangs */
  private readonly hanging = new Set<Dependency>();

  constructor(
    private readonly deps: Record<Dependency, { ping(): Promise<void> }>,
    private readonly onChange: OnChange = () => {},
  ) {}

  static of(meta: MetaStore, bytes: ByteStore, onChange?: OnChange): ReadinessCheck {
    return new ReadinessCheck({ database: meta, store: bytes }, onChange);
  }

  /** From now on readiness answers "not ready" (graceful shutdown calls it first). */
  drain(): void {
    this.draining = true;
  }

  async check(now = Date.now()): Promise<Readiness> {
    let checks: Record<Dependency, CheckState>;
    if (this.last && now - this.last.at < CACHE_MS) {
      checks = this.last.checks;
    } else {
      this.running ??= this.runChecks().finally(() => (this.running = null));
      checks = await this.running;
      this.last = { at: Date.now(), checks };
    }
    const ok = Object.values(checks).every((c) => c === 'ok');
    return { ready: ok && !this.draining, draining: this.draining, checks };
  }

  private async runChecks(): Promise<Record<Dependency, CheckState>> {
    const names = Object.keys(this.deps) as Dependency[];
    const results = await Promise.all(names.map((name) => this.checkOne(name)));
    const checks = {} as Record<Dependency, CheckState>;
    names.forEach((name, i) => {
      const { state, cause } = results[i]!;
      checks[name] = state;
      if ((this.states.get(name) ?? 'ok') !== state) this.onChange(name, state, cause);
      this.states.set(name, state);
    });
    return checks;
  }

  private async checkOne(name: Dependency): Promise<{ state: CheckState; cause: string | null }> {
    if (this.hanging.has(name)) return { state: 'timeout', cause: `the previous check has had no answer for over ${CHECK_TIMEOUT_MS / 1000} s` };
    let timer: NodeJS.Timeout | undefined;
    const ping = this.deps[name].ping().then(
      () => ({ state: 'ok' as const, cause: null }),
      (err: unknown) => ({ state: 'unreachable' as const, cause: err instanceof Error ? err.message : String(err) }),
    );
    const timeout = new Promise<{ state: CheckState; cause: string }>((resolve) => {
      timer = setTimeout(() => {
        this.hanging.add(name);
        void ping.finally(() => this.hanging.delete(name));
        resolve({ state: 'timeout', cause: `no answer within ${CHECK_TIMEOUT_MS / 1000} s` });
      }, CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
