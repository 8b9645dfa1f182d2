// Running `npx ferry …` as an operator would: `node bin/ferry.mjs` (the build in dist/) in a child
// process, with only the FERRY_* settings a test gives it, never the ones of the process running
// the tests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { FERRY_BIN } from './build.ts';

export interface CliResult {
  /** the exit code; -1 when the process was killed (the timeout) */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The caller's environment without its FERRY_* settings, plus `extra` (undefined values left
 * out): for a child Ferry or CLI that must see only the settings its test gives it.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FERRY_')) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [FERRY_BIN, ...args], { env: cliEnv(env), cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The command succeeded: what it printed, read as JSON. */
export async function cliJson<T = Record<string, unknown>>(run: Promise<CliResult>, args: string[]): Promise<T> {
  const r = await run;
  assert.equal(r.code, 0, `ferry ${args.join(' ')} → ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The command was refused: this exit code, one clear line on stderr, nothing on stdout. */
export async function cliRefused(run: Promise<CliResult>, args: string[], expectedCode: number, stderrPart: RegExp): Promise<void> {
  const r = await run;
  assert.equal(r.code, expectedCode, `ferry ${args.join(' ')} → ${r.code}: ${r.stdout} ${r.stderr}`);
  assert.match(r.stderr, stderrPart);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout for a refusal');
}
