// Ferry as the benchmarks see it: a CHILD PROCESS started the way an operator starts it
// (`node --max-semi-space-size=16 dist/main.js`, as `npm start` runs it, built by `npm run build`; settings by environment), so its RSS and CPU are its own and
// the harness's work never counts against it. Plus the few client calls the benchmarks need.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, waitForPort, type Pin } from './proc.ts';
import { SERVING_NODE_FLAGS, workerEnv } from '../../src/cluster/node-flags.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let built = false;
/** Measure what the sources say now, not a stale dist/ from an earlier build. */
export function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  built = true;
}

export interface RunningFerry {
  url: string;
  pid: number;
  adminKey: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface FerryStartOptions {
  dataDir: string;
  /** extra FERRY_* settings, e.g. a bigger FERRY_MAX_FILE_SIZE or a scale-out store */
  env?: Record<string, string>;
  /** extra node flags, e.g. --cpu-prof */
  nodeArgs?: string[];
  /** which cores it may use: the server's one (default), or all of them for the workers comparison */
  pin?: Pin;
}

export async function startFerry(opts: FerryStartOptions): Promise<RunningFerry> {
  const port = await freePort();
  const adminKey = randomBytes(18).toString('base64url');
  // The harness's own FERRY_* variables must not leak in and change what is measured.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FERRY_')) env[k] = v;
  Object.assign(env, {
    FERRY_HOST: '127.0.0.1',
    FERRY_PORT: String(port),
    FERRY_DATA_DIR: opts.dataDir,
    FERRY_ADMIN_KEY: adminKey,
    FERRY_LOG_LEVEL: 'warn',
    // The bench measures capacity from one address: the per-client rate limits are off.
    ...Object.fromEntries(['SLOTS', 'UPLOADS', 'DOWNLOADS'].flatMap((w) => [[`FERRY_RATE_${w}_PER_IP`, '0'], [`FERRY_RATE_${w}_PER_USER`, '0']])),
    // One process unless a comparison asks for more: the single-core comparisons measure one
    // node process against one nginx worker.
    FERRY_WORKERS: '1',
    // As npm start sets it (src/cluster/node-flags.ts), unless the harness's own environment does.
    ...workerEnv(process.env),
    ...opts.env,
  });
  fs.mkdirSync(opts.dataDir, { recursive: true });
  buildOnce();
  // As npm start starts it: with the serving flags (src/cluster/node-flags.ts; a test checks
  // package.json passes the same).
  const proc = startProcess(process.execPath, [...SERVING_NODE_FLAGS, ...(opts.nodeArgs ?? []), 'dist/main.js'], {
    env,
    cwd: repoRoot,
    graceMs: 15_000,
    pin: opts.pin ?? 'server',
  });
  try {
    await waitForPort(port, proc.child, 60_000);
  } catch (err) {
    await proc.stop();
    throw new Error(`Ferry did not start: ${(err as Error).message}\n${proc.output()}`);
  }
  return { url: `http://127.0.0.1:${port}`, pid: proc.child.pid!, adminKey, dataDir: opts.dataDir, stop: () => proc.stop() };
}

export async function admin(ferry: RunningFerry, method: string, urlPath: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${ferry.url}${urlPath}`, {
    method,
    headers: { 'x-admin-key': ferry.adminKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`admin ${method} ${urlPath} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface BenchUser {
  appId: string;
  userId: string;
  token: string;
}

/** A fresh app and a user token that outlives any benchmark run. */
export async function createUser(ferry: RunningFerry, userId = '1001'): Promise<BenchUser> {
  const app = await admin(ferry, 'POST', '/admin/apps', {});
  const appId = app.app_id as string;
  const tok = await admin(ferry, 'POST', `/admin/apps/${appId}/tokens`, { user_id: userId, ttl_s: 86_400 });
  return { appId, userId, token: tok.token as string };
}

/** The slot request as the web SDK sends it: query credentials, keys sorted. */
export function chatSlotUrl(ferry: RunningFerry, user: BenchUser, toId = '1002', fileType = 100): string {
  const q = new URLSearchParams({ 'access-token': user.token, app_id: user.appId, file_type: String(fileType), to_id: toId });
  q.sort();
  return `${ferry.url}/file/upload/chat?${q.toString()}`;
}

export interface Slot {
  upload_url: string;
  download_url: string;
}

export async function chatSlot(ferry: RunningFerry, user: BenchUser, toId = '1002', fileType = 100): Promise<Slot> {
  const res = await fetch(chatSlotUrl(ferry, user, toId, fileType));
  const env = (await res.json()) as { code: number; message: string | null; data: Slot };
  if (res.status !== 200 || env.code !== 200) throw new Error(`slot refused: HTTP ${res.status} ${JSON.stringify(env)}`);
  return env.data;
}

/** download_url with credentials appended by concatenation, as every client does. */
export const downloadUrlWithCreds = (slot: Slot, user: BenchUser) => `${slot.download_url}&access-token=${user.token}&app_id=${user.appId}`;

/** Ferry answers an accepted upload with exactly this envelope. */
export function isUploadAccepted(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    const env = JSON.parse(body) as { code?: unknown; data?: unknown };
    return env.code === 200 && env.data === true;
  } catch {
    return false;
  }
}
