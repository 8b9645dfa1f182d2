// Starts a real Ferry on a free port with its own data folder, and speaks to it the way the real
// Lanying clients do. Every integration test goes through here, so switching the whole suite to
// another storage mode is a matter of the environment (FERRY_TEST_* variables), not of tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startFerry, type RunningFerry } from '../../src/server.ts';

export interface TestFerry {
  url: string;
  dataDir: string;
  adminKey: string;
  ferry: RunningFerry;
  close(): Promise<void>;
  admin(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  createApp(appId?: string): Promise<{ appId: string; secret: string }>;
  token(appId: string, userId: string, opts?: { role?: 'user' | 'admin'; ttl_s?: number }): Promise<string>;
  group(appId: string, groupId: string, ownerId: string): Promise<void>;
  member(appId: string, groupId: string, userId: string, role?: 'member' | 'admin' | 'owner'): Promise<void>;
  removeMember(appId: string, groupId: string, userId: string): Promise<void>;
}

/** Settings that select the storage mode under test; empty means the embedded default. */
export function modeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('FERRY_TEST_ENV_') && v !== undefined) env[k.slice('FERRY_TEST_ENV_'.length)] = v;
  }
  return env;
}

export async function startTestFerry(env: Record<string, string> = {}): Promise<TestFerry> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-test-'));
  const config = loadConfig({
    FERRY_HOST: '127.0.0.1',
    FERRY_PORT: '0',
    FERRY_DATA_DIR: dataDir,
    FERRY_ADMIN_KEY: 'test-admin-key',
    FERRY_SHUTDOWN_GRACE_MS: '2000',
    ...modeEnv(),
    ...env,
  });
  const ferry = await startFerry(config, pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' }));
  const url = ferry.url;

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
    admin,
    async close() {
      await ferry.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
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
