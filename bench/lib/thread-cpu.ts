// CPU time of one thread of a process from /proc/<pid>/task/<tid>/stat (utime + stime, in
// clock ticks of 10 ms). The main thread's id is the process id: for a node process, the event
// loop's thread.
import fs from 'node:fs';

const TICK_MS = 10;

/** utime + stime in milliseconds from a /proc stat file (a process's or a thread's). */
export function statCpuMs(statFile: string): number {
  const stat = fs.readFileSync(statFile, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Milliseconds of CPU the thread has used so far (10 ms resolution). */
export function threadCpuMs(pid: number, tid: number = pid): number {
  return statCpuMs(`/proc/${pid}/task/${tid}/stat`);
}
