// Asking the operator's IM server whether a user belongs to a group (design brief, "Ask the IM
// server"): GET <url>?app_id=&group_id=&user_id= with a timestamp and an HMAC over both, so the
// IM server can tell Ferry's questions from anyone else's. Every way the answer can fail comes
// back as 'unavailable' (never as "not a member"): the caller then falls back on what it knew.
import { createHmac } from 'node:crypto';
import type { MemberRole } from '../meta/meta-store.ts';

export type ImAnswer =
  | { kind: 'answer'; member: boolean; role: MemberRole | null; joinedAt: number | null }
  | { kind: 'unavailable'; why: string };

/** sha256=<hex HMAC-SHA256 of "<app_id>\n<group_id>\n<user_id>\n<timestamp>" keyed with the app secret> */
export function askSignature(secret: string, appId: string, groupId: string, userId: string, timestamp: number): string {
  return `sha256=${createHmac('sha256', secret).update(`${appId}\n${groupId}\n${userId}\n${timestamp}`).digest('hex')}`;
}

/** An answer bigger than this is not a membership answer. */
const MAX_ANSWER_BYTES = 16 * 1024;
const ROLES: ReadonlySet<string> = new Set(['member', 'admin', 'owner']);

export async function askImServer(
  url: string,
  q: { appId: string; groupId: string; userId: string; secret: string },
  timeoutMs: number,
  now = Date.now(),
): Promise<ImAnswer> {
  const target = new URL(url);
  target.searchParams.set('app_id', q.appId);
  target.searchParams.set('group_id', q.groupId);
  target.searchParams.set('user_id', q.userId);
  let text: string;
  try {
    const res = await fetch(target, {
      headers: {
        accept: 'application/json',
        'x-ferry-timestamp': String(now),
        'x-ferry-signature': askSignature(q.secret, q.appId, q.groupId, q.userId, now),
      },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return { kind: 'unavailable', why: `the IM server answered HTTP ${res.status}` };
    }
    text = await res.text();
  } catch (err) {
    const name = (err as Error).name;
    return { kind: 'unavailable', why: name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `cannot reach it (${(err as Error).message})` };
  }
  if (text.length > MAX_ANSWER_BYTES) return { kind: 'unavailable', why: 'the answer is too large' };
  return parseAnswer(text);
}

/** {"member": bool, "role"?: "member"|"admin"|"owner", "joined_at"?: ms}; anything else is garbage. */
export function parseAnswer(text: string): ImAnswer {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'unavailable', why: 'the answer is not JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { kind: 'unavailable', why: 'the answer is not a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.member !== 'boolean') return { kind: 'unavailable', why: 'the answer has no boolean "member"' };
  let role: MemberRole | null = null;
  if (o.role !== undefined && o.role !== null) {
    if (typeof o.role !== 'string' || !ROLES.has(o.role)) return { kind: 'unavailable', why: 'the answer\'s "role" is not member, admin or owner' };
    role = o.role as MemberRole;
  }
  let joinedAt: number | null = null;
  if (o.joined_at !== undefined && o.joined_at !== null) {
    if (typeof o.joined_at !== 'number' || !Number.isSafeInteger(o.joined_at) || o.joined_at < 0) {
      return { kind: 'unavailable', why: 'the answer\'s "joined_at" is not a time in ms' };
    }
    joinedAt = o.joined_at;
  }
  return { kind: 'answer', member: o.member, role: o.member ? (role ?? 'member') : null, joinedAt: o.member ? joinedAt : null };
}
