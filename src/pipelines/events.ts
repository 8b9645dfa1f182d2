// Signed membership events from the operator's IM server (design brief, "Signed events"):
// POST /hooks/events, header app_id, body {"events": [...]}, header
// x-ferry-signature: sha256=<hex HMAC-SHA256 of the raw body keyed with the app secret>.
// The pipeline: find the app, check the signature over the exact bytes received, read every
// event (one bad event refuses the whole body, naming it), apply them all in one transaction,
// then hand file deletions to the lifecycle hooks when they are wired.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalId } from '../ids.ts';
import type { ChangeOutcome, MemberRole, MembershipChange } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { parseAdminJson } from '../primitives/exact-json.ts';

/**
 * Where file deletion plugs in (the lifecycle part of Ferry). Until Services.lifecycle is set,
 * these events are recorded and answered "recorded"; with it, they are applied after the
 * membership changes of the same body are committed.
 */

export type { LifecycleHooks } from '../services.ts';

export const MAX_EVENTS_PER_BODY = 1000;
export const EVENT_TYPES = ['member.joined', 'member.left', 'member.role', 'group.dismissed', 'group.settings', 'message.recalled', 'user.deleted'] as const;
/** an event's `at` may be ahead of Ferry's clock by this much (clocks drift), not more */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const ROLES: readonly MemberRole[] = ['member', 'admin', 'owner'];

/** The answer's status and body; 4xx bodies are {error}. */
export type EventsAnswer = { status: 200; body: { results: EventResult[] } } | { status: 400 | 401 | 404; body: { error: string } };

export interface EventResult {
  type: string;
  result: ChangeOutcome;
  note?: string;
}

export class EventError extends Error {
  constructor(
    readonly status: 400 | 401 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** sha256=<hex HMAC-SHA256 of body keyed with secret> */
export function bodySignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureMatches(secret: string, body: Buffer, given: string | undefined): boolean {
  if (given === undefined) return false;
  const want = Buffer.from(bodySignature(secret, body));
  const got = Buffer.from(given.trim().toLowerCase());
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function receiveEvents(s: Services, appId: string | undefined, signature: string | undefined, raw: Buffer): Promise<EventsAnswer> {
  try {
    if (!appId) throw new EventError(400, 'the app_id header is required');
    const keys = await s.apps.get(appId);
    if (!keys) throw new EventError(404, `app ${appId} not found`);
    if (signature === undefined) throw new EventError(401, 'the x-ferry-signature header is required: sha256=<hex HMAC-SHA256 of the body keyed with the app secret>');
    if (!signatureMatches(keys.app.secret, raw, signature)) {
      throw new EventError(401, 'x-ferry-signature does not match the body: sign the exact bytes sent, with the app secret, as sha256=<hex>');
    }
    const changes = parseEvents(raw.toString('utf8'), Date.now());
    const outcomes = await s.meta.applyMembershipChanges(appId, changes, Date.now());
    s.membership.forget();
    const results: EventResult[] = [];
    for (const [i, c] of changes.entries()) results.push(await finish(s, appId, c, outcomes[i]!));
    return { status: 200, body: { results } };
  } catch (err) {
    if (err instanceof EventError) return { status: err.status, body: { error: err.message } };
    throw err;
  }
}

const NOT_YET = 'recorded, not yet applied: file deletion is not available in this Ferry; the event is kept and its membership effects are in force';

/** A recorded change is applied by the lifecycle hooks when they are wired. */
async function finish(s: Services, appId: string, c: MembershipChange, outcome: ChangeOutcome): Promise<EventResult> {
  if (outcome !== 'recorded') return { type: c.type, result: outcome };
  const hooks = s.lifecycle;
  if (!hooks) return { type: c.type, result: 'recorded', note: NOT_YET };
  if (c.type === 'message.recalled') await hooks.recall(appId, c.urls, c.at);
  else if (c.type === 'user.deleted') await hooks.eraseUser(appId, c.userId, c.at);
  else if (c.type === 'group.dismissed') await hooks.purgeGroupFiles(appId, c.groupId, c.at);
  return { type: c.type, result: 'applied' };
}

/** Every event checked before any is applied; the first bad one is named. */
export function parseEvents(text: string, now: number): MembershipChange[] {
  let body: unknown;
  try {
    body = parseAdminJson(text);
  } catch (err) {
    throw new EventError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new EventError(400, 'the body must be a JSON object {"events": [...]}');
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) throw new EventError(400, 'the body must carry "events": an array');
  if (events.length === 0) throw new EventError(400, '"events" is empty');
  if (events.length > MAX_EVENTS_PER_BODY) throw new EventError(400, `"events" holds ${events.length} events; at most ${MAX_EVENTS_PER_BODY} per body`);
  return events.map((e, i) => parseEvent(e, i, now));
}

function parseEvent(e: unknown, i: number, now: number): MembershipChange {
  const bad = (why: string) => new EventError(400, `events[${i}]${typeName(e)}: ${why}; nothing in this body was applied`);
  if (e === null || typeof e !== 'object' || Array.isArray(e)) throw bad('an event must be a JSON object');
  const o = e as Record<string, unknown>;
  if (typeof o.type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(o.type)) {
    throw bad(`unknown type ${JSON.stringify(o.type)} (known: ${EVENT_TYPES.join(', ')})`);
  }
  const at = o.at;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) throw bad('"at" must be a time in ms (a whole number)');
  if (at > now + MAX_CLOCK_SKEW_MS) throw bad(`"at" (${at}) is in the future`);
  const id = (name: string) => {
    const v = canonicalId(o[name]);
    if (v === null) throw bad(`"${name}" must be a positive 64-bit integer (a string keeps large values exact)`);
    return v;
  };
  const role = (required: boolean): MemberRole => {
    if (o.role === undefined && !required) return 'member';
    if (typeof o.role !== 'string' || !ROLES.includes(o.role as MemberRole)) throw bad('"role" must be "member", "admin" or "owner"');
    return o.role as MemberRole;
  };
  switch (o.type) {
    case 'member.joined':
      return { type: o.type, groupId: id('group_id'), userId: id('user_id'), role: role(false), at };
    case 'member.left':
      return { type: o.type, groupId: id('group_id'), userId: id('user_id'), at };
    case 'member.role':
      return { type: o.type, groupId: id('group_id'), userId: id('user_id'), role: role(true), at };
    case 'group.dismissed':
      if (o.purge_files !== undefined && typeof o.purge_files !== 'boolean') throw bad('"purge_files" must be true or false');
      return { type: o.type, groupId: id('group_id'), purgeFiles: o.purge_files === true, at };
    case 'group.settings':
      if (typeof o.history_visible !== 'boolean') throw bad('"history_visible" must be true or false');
      return { type: o.type, groupId: id('group_id'), historyVisible: o.history_visible, at };
    case 'user.deleted':
      return { type: o.type, userId: id('user_id'), at };
    default: {
      const urls = o.urls;
      if (!Array.isArray(urls) || urls.length === 0 || urls.length > 100 || !urls.every((u) => typeof u === 'string' && u.length > 0 && u.length <= 8192)) {
        throw bad('"urls" must be 1 to 100 download_urls (or file_signs)');
      }
      return { type: 'message.recalled', urls: urls as string[], at };
    }
  }
}

function typeName(e: unknown): string {
  const t = e !== null && typeof e === 'object' ? (e as { type?: unknown }).type : undefined;
  return typeof t === 'string' ? ` (${t.slice(0, 40)})` : '';
}
