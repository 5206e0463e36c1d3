import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  /** Kernel start time of the process (clock ticks since boot), guarding against PID reuse. */
  startTime: string;
  host: string;
}

export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses, so count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid), host: hostname() };
}

/** Whether the process that wrote an entry is still the same live process on this host. */
export function isAlive(owner: ProcessIdentity): boolean {
  if (owner.host !== hostname()) return true; // another host's entries are that host's to recover
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = processStartTime(owner.pid);
  return now === '' || owner.startTime === '' || now === owner.startTime;
}
