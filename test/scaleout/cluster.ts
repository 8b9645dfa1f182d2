// Helpers for the scale-out tests: they need PostgreSQL and an S3 store (the test orchestrator
// starts both and runs test/scaleout/** in its scale-out pass), start several Ferry nodes on
// one fresh database and bucket, and can run a node as a separate process so a test can kill it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { isScaleOut, modeEnv, provision, type Provisioned } from '../helpers/storage-mode.ts';
import { inspect, type Inspector } from '../helpers/inspect.ts';
import { cliEnv } from '../helpers/cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The scale-out settings under test; a clear failure (never a skip) without them. */
export function scaleOutEnv(): Record<string, string> {
  const env = modeEnv();
  assert.ok(
    isScaleOut(env) && env.FERRY_DATABASE_URL && env.FERRY_STORE,
    'test/scaleout needs PostgreSQL and S3: run it through `npm test` (scripts/test.mjs starts both) or set FERRY_TEST_ENV_FERRY_DATABASE_URL, FERRY_TEST_ENV_FERRY_STORE and FERRY_TEST_ENV_FERRY_S3_*',
  );
  return env;
}

export interface Cluster {
  env: Record<string, string>;
  nodes: TestFerry[];
  inspect: Inspector;
  close(): Promise<void>;
}

/** n in-process Ferry nodes on one fresh database and bucket. */
export async function startCluster(n: number, extra: Record<string, string> = {}): Promise<Cluster> {
  const mode: Provisioned = await provision({ ...scaleOutEnv(), ...extra });
  const nodes: TestFerry[] = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(await startTestFerry(mode.env));
  } catch (err) {
    await Promise.allSettled(nodes.map((x) => x.close()));
    await mode.release();
    throw err;
  }
  const inspector = inspect(nodes[0]!.dataDir, mode.env);
  return {
    env: mode.env,
    nodes,
    inspect: inspector,
    async close() {
      await Promise.allSettled(nodes.map((x) => x.close()));
      await inspector.close();
      await mode.release();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface NodeProcess {
  url: string;
  child: ChildProcess;
  kill(): Promise<void>;
}

/** A Ferry node as its own process (`node --import tsx src/main.ts`), so it can be killed. */
export async function spawnNode(env: Record<string, string>): Promise<NodeProcess> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-node-'));
  const childEnv = cliEnv();
  // One process per node unless a test asks for workers (FERRY_WORKERS defaults to the core count).
  Object.assign(childEnv, { FERRY_WORKERS: '1' }, env, {
    FERRY_HOST: '127.0.0.1',
    FERRY_PORT: String(port),
    FERRY_DATA_DIR: dataDir,
    FERRY_ADMIN_KEY: 'test-admin-key',
    FERRY_LOG_LEVEL: process.env.FERRY_TEST_LOG ?? 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], { cwd: root, env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the Ferry node exited with ${child.exitCode} before listening`);
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      if (i > 300) throw new Error('the Ferry node did not start listening within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The same download URL, sent to another node (clients only ever see one base URL; a load balancer picks the node). */
export const onNode = (url: string, node: { url: string }) => url.replace(/^http:\/\/[^/]+/, node.url);

const services = path.join(root, '.ci', 'services');

/** Run one of the .ci/services scripts (stop or start RGW, a PostgreSQL cluster). */
export function service(script: string, args: string[] = [], env: Record<string, string> = {}): string {
  const res = spawnSync('bash', [path.join(services, script), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(res.status, 0, `${script} ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout.trim();
}
