// Who belongs to which group, as the access rules ask it. Ferry's own table answers first (fed
// by bulk pushes and signed events); what it does not know is asked of the operator's IM server
// and the answer is kept in the shared database, so a known answer never costs a download a
// remote call on any node. The rules of the design brief:
//   - a "member" answer is used for FERRY_MEMBERSHIP_TTL_S (300 s);
//   - a refusal always rests on two noes, the second one fresh: a "no" younger than 5 s counts
//     as the first, otherwise Ferry asks twice. So a user who joined a moment ago is served.
//   - when the IM server cannot answer, the last answer is used up to FERRY_MEMBERSHIP_STALE_S
//     (600 s); past that the request gets 60040 "membership unavailable", never "not a member";
//   - one ask per (group, user) in flight on a node, however many downloads wait for it.
// Each node keeps what it read for LOCAL_TTL_MS only, so an event or push received by any node
// is in force on every node within a second.
import { boundedCache } from '../primitives/bounded-cache.ts';
import type { Logger } from 'pino';
import type { AppRegistry } from '../auth/app-registry.ts';
import type { MembershipConfig } from '../config.ts';
import { Codes, FerryError } from '../errors.ts';
import type { GroupRecord, MemberRole, MembershipAnswer, MetaStore } from '../meta/meta-store.ts';
import type { FerryMetrics, MembershipLookupResult } from '../metrics.ts';
import { LocalSingleFlight } from '../primitives/single-flight.ts';
import { askImServer, type ImAnswer } from './im-server.ts';

/** What the access rules need to know about one user in one group. */
export interface MemberState {
  /** null: not a member */
  role: MemberRole | null;
  /** when they joined (ms); null: unknown, treated as "since always" */
  joinedAt: number | null;
  historyVisible: boolean;
  /** false: Ferry knows no such group (and has no IM server to ask) */
  groupKnown: boolean;
}

/** a member state and where it came from (ferry_membership_lookups_total) */
interface Lookup {
  state: MemberState;
  source: Exclude<MembershipLookupResult, 'hit' | 'unavailable'>;
}

/** how long a node reuses what it read, well under the one second an event may take to reach every node */
export const LOCAL_TTL_MS = 500;
/** an app's membership_url is read again after this */
const URL_TTL_MS = 1_000;

export class Membership {
  private readonly local = boundedCache<string, { state: MemberState; until: number }>(50_000);
  private readonly urls = boundedCache<string, { url: string | undefined; until: number }>(10_000);
  private readonly flights = new LocalSingleFlight();

  constructor(
    private readonly meta: MetaStore,
    private readonly apps: AppRegistry,
    private readonly config: MembershipConfig,
    private readonly log: Logger,
    private readonly metrics: FerryMetrics,
  ) {}

  /** Ferry's group, or (with an IM server to ask) any group: the IM server owns which exist. */
  async getGroup(appId: string, groupId: string): Promise<GroupRecord | null> {
    const g = await this.meta.getGroup(appId, groupId);
    if (g) return g;
    return (await this.urlFor(appId)) ? { appId, groupId, ownerId: '' } : null;
  }

  async getMemberRole(appId: string, groupId: string, userId: string): Promise<MemberRole | null> {
    return (await this.memberState(appId, groupId, userId)).role;
  }

  async memberState(appId: string, groupId: string, userId: string): Promise<MemberState> {
    const key = `${appId}\n${groupId}\n${userId}`;
    const hit = this.local.get(key);
    if (hit && hit.until > Date.now()) {
      this.metrics.membershipLookup('hit');
      return hit.state;
    }
    // The read of the table sits inside the flight too: a download that read "unknown" just
    // before another one's ask was stored would otherwise ask a second time. Every download
    // waiting on a flight counts one lookup, with the flight's source.
    try {
      const { state, source } = await this.flights.run(key, () => this.lookup(appId, groupId, userId, key));
      this.metrics.membershipLookup(source);
      return state;
    } catch (err) {
      if (err instanceof FerryError && err.code === Codes.MEMBERSHIP_UNAVAILABLE) this.metrics.membershipLookup('unavailable');
      throw err;
    }
  }

  /** This node's copies go at once (the other nodes' within LOCAL_TTL_MS). */
  forget(): void {
    this.local.clear();
    this.urls.clear();
  }

  private keep(key: string, state: MemberState): MemberState {
    this.local.set(key, { state, until: Date.now() + LOCAL_TTL_MS });
    return state;
  }

  private async lookup(appId: string, groupId: string, userId: string, key: string): Promise<Lookup> {
    const facts = await this.meta.getMembership(appId, groupId, userId);
    const historyVisible = facts.group?.historyVisible ?? true;
    const table = (state: MemberState): Lookup => ({ state: this.keep(key, state), source: 'table' });
    if (facts.member) return table({ role: facts.member.role, joinedAt: facts.member.joinedAt, historyVisible, groupKnown: true });
    const url = facts.dismissed ? undefined : await this.urlFor(appId);
    if (!url) return table({ role: null, joinedAt: null, historyVisible, groupKnown: facts.group !== null });

    const now = Date.now();
    const known = facts.answer;
    const fromAnswer = (a: { member: boolean; role: MemberRole | null; joinedAt: number | null }): MemberState => ({
      role: a.member ? (a.role ?? 'member') : null,
      joinedAt: a.member ? a.joinedAt : null,
      historyVisible,
      groupKnown: true,
    });
    if (known?.member && now - known.askedAt < this.config.ttlMs) return table(fromAnswer(known));

    let answer = await this.ask(url, appId, groupId, userId);
    const firstNoAt = known && !known.member && now - known.askedAt < this.config.noTtlMs ? known.askedAt : null;
    if (answer.kind === 'answer' && !answer.member && firstNoAt === null) {
      // A "no" is asked again once before any refusal: the join may be landing right now.
      const again = await this.ask(url, appId, groupId, userId);
      if (again.kind === 'answer') answer = again;
    }
    if (answer.kind === 'unavailable') {
      if (known && now - known.askedAt < this.config.staleMs) {
        this.log.warn({ appId, groupId, userId, why: answer.why, answerAgeMs: now - known.askedAt }, 'IM server did not answer a membership question; using its last answer');
        return { state: fromAnswer(known), source: 'stale' };
      }
      this.log.warn({ appId, groupId, userId, why: answer.why }, 'IM server did not answer a membership question and no recent answer is known');
      throw new FerryError(Codes.MEMBERSHIP_UNAVAILABLE, 'membership unavailable: the IM server could not be asked whether this user is in the group; try again shortly');
    }
    const stored: MembershipAnswer = { member: answer.member, role: answer.role, joinedAt: answer.joinedAt, askedAt: Date.now() };
    await this.meta.putMembershipAnswer(appId, groupId, userId, stored);
    const state = fromAnswer(stored);
    // A "no" is not kept on the node: the next request asks again (rule above).
    return { state: stored.member ? this.keep(key, state) : state, source: 'asked' };
  }

  private async ask(url: string, appId: string, groupId: string, userId: string): Promise<ImAnswer> {
    const keys = await this.apps.get(appId);
    if (!keys) return { kind: 'unavailable', why: 'unknown app' };
    const t0 = performance.now();
    const answer = await askImServer(url, { appId, groupId, userId, secret: keys.app.secret }, this.config.timeoutMs);
    this.metrics.membershipAsk(answer.kind === 'unavailable' ? 'unavailable' : answer.member ? 'member' : 'not_member', (performance.now() - t0) / 1000);
    return answer;
  }

  private async urlFor(appId: string): Promise<string | undefined> {
    const hit = this.urls.get(appId);
    if (hit && hit.until > Date.now()) return hit.url;
    const url = (await this.meta.getMembershipUrl(appId)) ?? this.config.url;
    this.urls.set(appId, { url, until: Date.now() + URL_TTL_MS });
    return url;
  }
}
