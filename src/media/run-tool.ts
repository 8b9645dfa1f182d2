// Runs an external media tool (ffmpeg, ffprobe, heif-convert) the only way Ferry allows: no
// shell, no stdin, bounded output kept in memory, and SIGKILL when it runs past its time. A
// crafted file can make a decoder spin or balloon; killing it is the only reliable answer.
import { spawn } from 'node:child_process';
import { Codes, FerryError } from '../errors.ts';

export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${tool} failed (exit ${exitCode}): ${stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500)}`);
    this.name = 'ToolError';
  }
}

interface ToolRun {
  stdout: string;
  stderr: string;
}

const MAX_CAPTURE = 256 * 1024;

export function runTool(cmd: string, args: readonly string[], opts: { timeoutMs: number; what: string }): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    // A tool that cannot start, or is killed by someone else (the OOM killer), says nothing
    // about the file: those are plain errors (logged, 60099), never "damaged media".
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${cmd}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new FerryError(Codes.MEDIA_TIMEOUT, `${opts.what} took longer than ${opts.timeoutMs} ms and was stopped`));
      else if (code === 0) resolve({ stdout, stderr });
      else if (code === null) reject(new Error(`${cmd} was killed by ${signal ?? 'a signal'}`));
      else reject(new ToolError(cmd, code, stderr));
    });
  });
}
