// Who is asking. Lanying clients send app_id and access-token as headers or query parameters
// (browsers must use the query, because the URL lands in <img src>). An admin token may act as
// one user (user_id) or as one group's admin (group_id); a user token never gains that power.
import { Codes, FerryError, badParam, noPermission } from '../errors.ts';
import { canonicalId, parseOptionalId } from '../ids.ts';
import type { AppKeys, AppRegistry } from './app-registry.ts';
import type { TokenPolicy } from '../config.ts';
import { hasCanonicalSignature } from './canonical.ts';

export type Principal =
  /** a user token, or an admin token acting as user_id */
  | { kind: 'user'; appId: string; userId: string }
  /** an admin token: reads everything in its app */
  | { kind: 'admin'; appId: string; userId: string }
  /** an admin token acting as the admin of group_id */
  | { kind: 'group-admin'; appId: string; userId: string; groupId: string };

export interface Caller {
  principal: Principal;
  keys: AppKeys;
}

export type Query = Record<string, string | string[] | undefined>;
export type Headers = Record<string, string | string[] | undefined>;

/** uni-app can send a key twice: the first one wins. */
function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

const APP_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidAppId(appId: string): boolean {
  return APP_ID.test(appId);
}

/**
 * Header first, then query: some calls carry the token in both places. An empty header is no
 * credential, so it must not hide the one in the query.
 */
function credential(headers: Headers, query: Query, name: string): string | undefined {
  return present(first(headers[name])) ?? present(first(query[name]));
}

const present = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);

/** The app_id the request names, checked for form (not yet for existence). */
function appIdOf(headers: Headers, query: Query): string {
  const appId = credential(headers, query, 'app_id');
  if (appId === undefined) throw badParam('app_id is required (header or query parameter)');
  if (!isValidAppId(appId)) throw new FerryError(Codes.APP_NOT_FOUND, 'app_id not found');
  return appId;
}

interface TokenClaims {
  userId: string;
  admin: boolean;
}

/**
 * The token's checked claims. The same token string is verified in full at most once a second
 * per process (verified-cache.ts): a client's burst of downloads pays for one HMAC, and a
 * revoked token stops working within that second.
 */
function verifyToken(keys: AppKeys, token: string, policy: TokenPolicy): TokenClaims {
  return keys.verified.tokens.get(keys, token, () => {
    const claims = checkToken(keys, token, policy);
    return { value: claims.value, expiresAtMs: claims.expiresAtMs };
  });
}

function checkToken(keys: AppKeys, token: string, policy: TokenPolicy): { value: TokenClaims; expiresAtMs?: number } {
  if (!hasCanonicalSignature(token)) throw new FerryError(Codes.BAD_TOKEN, 'access-token is invalid: its signature is not in canonical base64url form');
  let claims: Record<string, unknown>;
  try {
    claims = keys.verifyToken(token);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FAST_JWT_EXPIRED') throw new FerryError(Codes.BAD_TOKEN, 'access-token has expired');
    throw new FerryError(Codes.BAD_TOKEN, 'access-token is invalid');
  }
  checkLifetime(claims, policy);
  if (claims.app !== undefined && String(claims.app) !== keys.app.appId) {
    throw new FerryError(Codes.BAD_TOKEN, 'access-token belongs to another app');
  }
  const userId = canonicalId(claims.sub);
  const role = Number(claims.role ?? 1);
  if (userId === null || (role !== 1 && role !== 2)) throw new FerryError(Codes.BAD_TOKEN, 'access-token is invalid');
  // A revocation bumps the app's keys version, which replaces the keys object this result is
  // cached under (verified-cache.ts): a revoked token stops at once on the next keys check.
  checkRevocation(keys, userId, claims);
  const exp = Number(claims.exp);
  return { value: { userId, admin: role === 2 }, ...(Number.isFinite(exp) ? { expiresAtMs: exp * 1000 } : {}) };
}

/**
 * A token without exp is valid forever once it leaks, and one with a far exp nearly so: both
 * are refused unless the operator allows them (FERRY_ALLOW_TOKENS_WITHOUT_EXP,
 * FERRY_TOKEN_MAX_TTL_S).
 */
function checkLifetime(claims: Record<string, unknown>, policy: TokenPolicy): void {
  if (claims.exp === undefined) {
    if (policy.allowWithoutExp) return;
    throw new FerryError(Codes.BAD_TOKEN, 'access-token has no expiry (exp): mint tokens with an exp, or let this Ferry accept them (FERRY_ALLOW_TOKENS_WITHOUT_EXP)');
  }
  const exp = Number(claims.exp);
  const from = typeof claims.iat === 'number' ? claims.iat : Date.now() / 1000;
  if (!Number.isFinite(exp) || exp - from > policy.maxTtlSeconds) {
    throw new FerryError(Codes.BAD_TOKEN, `access-token lives too long: at most ${policy.maxTtlSeconds} s from iat to exp are accepted`);
  }
}

/**
 * The operator revoked this user's tokens issued before a moment (POST
 * /admin/apps/:app_id/tokens/revoke). iat has one-second resolution, so a token minted in the
 * same second as that moment is refused too; a token without iat cannot show it is newer.
 */
function checkRevocation(keys: AppKeys, userId: string, claims: Record<string, unknown>): void {
  const before = keys.revokedBefore(userId);
  if (before === undefined) return;
  if (typeof claims.iat === 'number' && claims.iat * 1000 >= before) return;
  throw new FerryError(Codes.BAD_TOKEN, 'access-token was revoked: ask the IM server for a new one');
}

export interface AuthOptions {
  /**
   * Whether user_id/group_id in the query mean "act as" on this endpoint. The group avatar
   * endpoint uses group_id as its target instead.
   */
  actAs: { userId: boolean; groupId: boolean };
}

/**
 * Who each request authenticated as, kept on its headers object (one per request, gone with
 * it): the access log names the app and user without every route handing the caller back.
 * Under a symbol of this module's, which no header name can be, and which Object.keys and JSON
 * never show. Not a WeakMap keyed by the headers: an entry per request is an ephemeron that
 * every young-generation collection has to trace, and that cost an authenticated request about
 * 0.7 µs (measured in alternating pairs, pinned as the benchmarks are).
 */
const PRINCIPAL = Symbol('ferry.principal');
type Marked = Headers & { [PRINCIPAL]?: Principal };

/** The principal a request authenticated as, once authenticate() has accepted it. */
export function principalOf(headers: Headers): Principal | undefined {
  return (headers as Marked)[PRINCIPAL];
}

const ACT_AS_ANYONE: AuthOptions = { actAs: { userId: true, groupId: true } };

export async function authenticate(registry: AppRegistry, headers: Headers, query: Query, options: AuthOptions = ACT_AS_ANYONE): Promise<Caller> {
  const keys = await registry.get(appIdOf(headers, query));
  if (!keys) throw new FerryError(Codes.APP_NOT_FOUND, 'app_id not found');
  return accepted(registry, keys, headers, query, options);
}

/**
 * authenticate() at once, when this node has the app's keys at hand (nearly always); undefined
 * when it must read them first, and then the caller awaits authenticate(). It refuses exactly
 * as authenticate() does. For the hot paths (slots, downloads): every await there is a promise
 * and a trip through the microtask queue, and the awaits a download made on values it already
 * had cost it 7% of its rate (measured in alternating pairs, pinned as the benchmarks are).
 */
export function authenticateNow(registry: AppRegistry, headers: Headers, query: Query, options: AuthOptions = ACT_AS_ANYONE): Caller | undefined {
  const keys = registry.known(appIdOf(headers, query));
  return keys && accepted(registry, keys, headers, query, options);
}

function accepted(registry: AppRegistry, keys: AppKeys, headers: Headers, query: Query, options: AuthOptions): Caller {
  const caller = callerOf(registry, keys, headers, query, options);
  (headers as Marked)[PRINCIPAL] = caller.principal;
  return caller;
}

/** Who the token (and user_id/group_id beside it) says the caller is, in the app of keys. */
function callerOf(registry: AppRegistry, keys: AppKeys, headers: Headers, query: Query, options: AuthOptions): Caller {
  const token = credential(headers, query, 'access-token');
  if (token === undefined) throw new FerryError(Codes.NO_TOKEN, 'access-token is required (header or query parameter)');
  const claims = verifyToken(keys, token, registry.tokenPolicy);
  const appId = keys.app.appId;
  // Server-side clients (lanying-connector) send user_id/group_id as headers beside the token.
  const asUser = options.actAs.userId ? parseOptionalId('user_id', credential(headers, query, 'user_id')) : undefined;
  const asGroup = options.actAs.groupId ? parseOptionalId('group_id', credential(headers, query, 'group_id')) : undefined;

  if (!claims.admin) {
    // A user token asking to be someone else is refused outright rather than silently ignored,
    // so a misbehaving client learns about it.
    if (asUser !== undefined && asUser !== claims.userId) throw noPermission('user_id is only for admin tokens');
    if (asGroup !== undefined) throw noPermission('group_id is only for admin tokens');
    return { keys, principal: { kind: 'user', appId, userId: claims.userId } };
  }
  if (asUser !== undefined && asGroup !== undefined) throw badParam('send user_id or group_id, not both');
  if (asUser !== undefined) return { keys, principal: { kind: 'user', appId, userId: asUser } };
  if (asGroup !== undefined) return { keys, principal: { kind: 'group-admin', appId, userId: claims.userId, groupId: asGroup } };
  return { keys, principal: { kind: 'admin', appId, userId: claims.userId } };
}
