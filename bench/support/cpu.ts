// CPU time (user + system) of a process and its descendants, from /proc: what a proxy
// spends per request, which holds steadier than req/s on a machine shared with other work.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function children(pid: number): number[] {
  try {
    const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return tasks.split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function ownTicks(pid: number): number {
  // Fields after the command name (which may hold spaces, hence the last ')').
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

/** CPU seconds used so far by `pid` and every live descendant (nginx's worker is a child). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    try {
      ticks += ownTicks(next);
    } catch {
      continue; // gone
    }
    queue.push(...children(next));
  }
  return ticks / TICKS_PER_SECOND;
}
