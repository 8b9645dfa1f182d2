// CPU time of one thread of a process from /proc/<pid>/task/<tid>/stat (utime + stime, in
// clock ticks of 10 ms). The main thread's id is the process id: for a node process, the event
// loop's thread.
import fs from 'node:fs';

const TICK_MS = 10;

/** Milliseconds of CPU the thread has used so far (10 ms resolution). */
export function threadCpuMs(pid: number, tid: number = pid): number {
  const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
