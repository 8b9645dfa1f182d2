// Child processes for the benchmarks: finding tools, free ports, waiting for a server to answer,
// and stopping what we started (and only that) even when a comparison throws.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function which(cmd: string): string | null {
  const res = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : null;
}

/**
 * Where a process may run. Every comparison is pinned: the side being measured (Ferry, nginx,
 * the node:http hello, a CLI peer) on one core, the load generator (wrk, curl) on another, so
 * neither steals the other's core and both sides of a comparison get the same machine.
 * 'all' is for comparisons about many cores (workers), which pin nothing.
 */
export type Pin = 'server' | 'client' | 'all';

/** CPU lists per role, or null when pinning is impossible (no taskset, a single core). */
export const pinPlan: { server: string; client: string } | null = (() => {
  const n = os.availableParallelism();
  if (n < 2 || !which('taskset')) return null;
  // The last core for the load generator, the one before it for the server.
  return { server: String(n - 2), client: String(n - 1) };
})();

/** The command line that runs cmd with the pin's CPU affinity (taskset execs, so the pid stays the command's). */
export function pinned(cmd: string, args: string[], pin: Pin | undefined): [string, string[]] {
  if (!pin || pin === 'all' || !pinPlan) return [cmd, args];
  return ['taskset', ['-c', pinPlan[pin], cmd, ...args]];
}

/** A fresh folder under the OS temp dir for one comparison's files. */
export const tmpDirFor = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ferry-bench-${name}-`));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects after timeoutMs. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export interface Started {
  child: ChildProcess;
  /** the last few KiB of stderr+stdout, for error messages */
  output(): string;
  stop(): Promise<void>;
}

/** Spawn a long-running server; stop() sends SIGTERM, then SIGKILL after graceMs. */
export function startProcess(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; graceMs?: number; pin?: Pin } = {},
): Started {
  const [file, argv] = pinned(cmd, args, opts.pin);
  const child = spawn(file, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  live.add(child);
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), opts.graceMs ?? 5000);
        await exited;
        clearTimeout(killer);
      }
      live.delete(child);
    },
  };
}

const live = new Set<ChildProcess>();

/** Last resort on Ctrl-C or a crash of the harness: no server of ours outlives it. */
export function killAllStarted(): void {
  for (const child of live) if (child.exitCode === null) child.kill('SIGKILL');
  live.clear();
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion, collecting its output. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; pin?: Pin } = {}): Promise<RunResult> {
  const [file, argv] = pinned(cmd, args, opts.pin);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
