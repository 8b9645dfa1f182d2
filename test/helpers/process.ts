// Ferry as a real child process (`node --import tsx src/main.ts`), for what only a process
// shows: kill -9 and a restart on the same data folder, the log an operator reads, file modes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Creds } from './client.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface FerryProcess {
  url: string;
  child: ChildProcess;
  /** every log line so far, parsed (pino JSON) */
  logs: Array<{ level: number; msg: string; pid?: number; err?: { message?: string } }>;
  admin(method: string, urlPath: string, body?: unknown): Promise<Record<string, unknown>>;
  /** an app with one user token per given user id */
  creds(appId: string, ...users: string[]): Promise<Creds[]>;
  /** SIGKILL: no shutdown, no cleanup */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit */
  stop(): Promise<void>;
}

export async function spawnFerry(env: Record<string, string>): Promise<FerryProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    // One process unless a test asks for workers (FERRY_WORKERS defaults to the core count).
    env: { PATH: process.env.PATH ?? '', FERRY_HOST: '127.0.0.1', FERRY_PORT: '0', FERRY_LOG_LEVEL: 'info', FERRY_SHUTDOWN_GRACE_MS: '1000', FERRY_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: FerryProcess['logs'] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`ferry did not start within 30 s: ${stderr}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue; // the first-start help text
        const entry = JSON.parse(line) as FerryProcess['logs'][number] & { url?: string };
        logs.push(entry);
        if (entry.msg === 'ferry is listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited (${code}) before listening: ${stderr}`));
    });
  });
  const adminKey = env.FERRY_ADMIN_KEY;
  const admin: FerryProcess['admin'] = async (method, urlPath, body) => {
    const res = await fetch(`${url}${urlPath}`, {
      method,
      headers: { 'x-admin-key': adminKey ?? '', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`admin ${method} ${urlPath}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    url,
    child,
    logs,
    admin,
    async creds(appId, ...users) {
      await admin('POST', '/admin/apps', { app_id: appId }).catch(() => {}); // exists after a restart
      return Promise.all(users.map(async (u) => ({ appId, token: (await admin('POST', `/admin/apps/${appId}/tokens`, { user_id: u })).token as string })));
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
