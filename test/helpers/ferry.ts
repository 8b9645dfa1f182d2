// Starts a real Ferry on a free port with its own data folder, and speaks to it the way the real
// Lanying clients do. Every integration test goes through here, so switching the whole suite to
// another storage mode is a matter of the environment (FERRY_TEST_* variables), not of tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startFerry, type RunningFerry } from '../../src/server.ts';
import { createLogger } from '../../src/logging.ts';
import { modeEnv, provision } from './storage-mode.ts';
import { inspect, type Inspector } from './inspect.ts';

export interface TestFerry {
  url: string;
  dataDir: string;
  adminKey: string;
  ferry: RunningFerry;
  /** the FERRY_* settings it runs with (a second node on the same dataset starts with these) */
  env: Record<string, string>;
  /** what it really stored, in either mode; usable until close() */
  inspect: Inspector;
  close(): Promise<void>;
  admin(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  createApp(appId?: string): Promise<{ appId: string; secret: string }>;
  token(appId: string, userId: string, opts?: { role?: 'user' | 'admin'; ttl_s?: number }): Promise<string>;
  group(appId: string, groupId: string, ownerId: string): Promise<void>;
  member(appId: string, groupId: string, userId: string, role?: 'member' | 'admin' | 'owner'): Promise<void>;
  removeMember(appId: string, groupId: string, userId: string): Promise<void>;
}

export { modeEnv, isScaleOut } from './storage-mode.ts';

export interface TestFerryOptions {
  /**
   * Where its log goes, at the level FERRY_LOG_LEVEL sets (default info), through Ferry's own
   * logger (redaction included). Without it the log is silent unless FERRY_TEST_LOG names a level.
   */
  logStream?: DestinationStream;
}

export async function startTestFerry(env: Record<string, string> = {}, opts: TestFerryOptions = {}): Promise<TestFerry> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-'));
  // Scale-out mode: a fresh database and bucket per Ferry, unless the test names its own (two
  // nodes sharing one dataset).
  const shared = env.FERRY_DATABASE_URL !== undefined || env.FERRY_STORE !== undefined;
  const mode = shared ? { env: modeEnv(), release: async () => {} } : await provision();
  const settings: Record<string, string> = {
    FERRY_HOST: '127.0.0.1',
    FERRY_PORT: '0',
    FERRY_DATA_DIR: dataDir,
    FERRY_ADMIN_KEY: 'test-admin-key',
    FERRY_SHUTDOWN_GRACE_MS: '2000',
    ...mode.env,
    ...env,
  };
  const config = loadConfig(settings);
  let ferry: RunningFerry;
  try {
    const log = opts.logStream
      ? createLogger(config, opts.logStream)
      : createLogger({ logLevel: process.env.FERRY_TEST_LOG ?? 'silent' }, process.stdout);
    ferry = await startFerry(config, log);
  } catch (err) {
    await mode.release();
    throw err;
  }
  const url = ferry.url;
  let inspector: Inspector | undefined;

  const admin: TestFerry['admin'] = async (method, urlPath, body) => {
    const res = await fetch(`${url}${urlPath}`, {
      method,
      headers: { 'x-admin-key': ferry.adminKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const must = async (p: Promise<{ status: number; body: Record<string, unknown> }>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`admin call failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  return {
    url,
    dataDir,
    adminKey: ferry.adminKey,
    ferry,
    env: settings,
    get inspect() {
      return (inspector ??= inspect(config.dataDir, settings));
    },
    admin,
    async close() {
      try {
        await ferry.close();
        await inspector?.close();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
        await mode.release();
      }
    },
    async createApp(appId) {
      const b = await must(admin('POST', '/admin/apps', appId === undefined ? {} : { app_id: appId }));
      return { appId: b.app_id as string, secret: b.secret as string };
    },
    async token(appId, userId, opts = {}) {
      const b = await must(admin('POST', `/admin/apps/${appId}/tokens`, { user_id: userId, ...opts }));
      return b.token as string;
    },
    async group(appId, groupId, ownerId) {
      await must(admin('PUT', `/admin/apps/${appId}/groups/${groupId}`, { owner_id: ownerId }));
    },
    async member(appId, groupId, userId, role = 'member') {
      await must(admin('PUT', `/admin/apps/${appId}/groups/${groupId}/members/${userId}`, { role }));
    },
    async removeMember(appId, groupId, userId) {
      await must(admin('DELETE', `/admin/apps/${appId}/groups/${groupId}/members/${userId}`));
    },
  };
}

/** Settings that turn every per-client rate limit off, for tests that send thousands of requests from one address. */
export const RATE_LIMITS_OFF: Record<string, string> = Object.fromEntries(
  ['SLOTS', 'UPLOADS', 'DOWNLOADS'].flatMap((w) => [
    [`FERRY_RATE_${w}_PER_IP`, '0'],
    [`FERRY_RATE_${w}_PER_USER`, '0'],
  ]),
);
