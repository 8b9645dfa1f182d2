// CPU time of a process and every process below it (utime + stime from /proc/<pid>/stat, in
// clock ticks of 10 ms): Ferry's primary and its workers, or nginx's master and its workers.
import fs from 'node:fs';
import { statCpuMs } from './thread-cpu.ts';

function childrenOf(pid: number): number[] {
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((tid) =>
    fs
      .readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number),
  );
}

/** Milliseconds of CPU the process and its descendants have used so far (10 ms resolution). */
export function treeCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`) + childrenOf(pid).reduce((sum, child) => sum + treeCpuMs(child), 0);
}
