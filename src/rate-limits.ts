// Per-client limits on the three things a flood costs the most: slot issuance, upload receiving
// and downloads, each counted per client IP (before any credential is checked, so floods of bad
// tokens count too) and per app and user (once the caller is known). A refusal is Lanying's
// envelope with HTTP 200 and code 60060 plus Retry-After, so no SDK trips on an unknown status.
// Counted per node (docs/keys-and-rate-limits.md says what that means behind a load balancer).
import type { RateLimitConfig } from './config.ts';
import { RateLimitedError } from './errors.ts';
import { RateLimiter } from './primitives/rate-limiter.ts';

export type LimitedOperation = 'slots' | 'uploads' | 'downloads';

const WHAT: Record<LimitedOperation, string> = { slots: 'upload slots', uploads: 'uploads', downloads: 'downloads' };

export class RateLimits {
  private readonly limiters: Record<LimitedOperation, { ip: RateLimiter; user: RateLimiter }>;

  constructor(private readonly config: RateLimitConfig) {
    const make = (op: LimitedOperation) => ({
      ip: new RateLimiter(config[op].perIp, config.windowMs),
      user: new RateLimiter(config[op].perUser, config.windowMs),
    });
    this.limiters = { slots: make('slots'), uploads: make('uploads'), downloads: make('downloads') };
  }

  /** Throws RateLimitedError when this client IP has used up its share. */
  byIp(op: LimitedOperation, ip: string): void {
    const a = this.limiters[op].ip.take(ip);
    if (!a.ok) throw this.refusal(op, 'from this address', this.config[op].perIp, a.retryAfterS);
  }

  /** Throws RateLimitedError when this user of this app has used up its share. */
  byUser(op: LimitedOperation, appId: string, userId: string): void {
    const a = this.limiters[op].user.take(`${appId}\n${userId}`);
    if (!a.ok) throw this.refusal(op, 'for this user', this.config[op].perUser, a.retryAfterS);
  }

  private refusal(op: LimitedOperation, who: string, limit: number, retryAfterS: number): RateLimitedError {
    const window = this.config.windowMs / 1000;
    return new RateLimitedError(`too many ${WHAT[op]} ${who} (at most ${limit} per ${window} s): try again in ${retryAfterS} s`, retryAfterS);
  }
}
