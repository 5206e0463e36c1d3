import { invalidArgument } from './errors.js';

/** Linux signal numbers, as the Docker engine knows them (moby's signal/signal_linux.go). */
export const LINUX_SIGNALS: Readonly<Record<string, number>> = {
  SIGABRT: 6, SIGALRM: 14, SIGBUS: 7, SIGCHLD: 17, SIGCLD: 17, SIGCONT: 18, SIGFPE: 8,
  SIGHUP: 1, SIGILL: 4, SIGINT: 2, SIGIO: 29, SIGIOT: 6, SIGKILL: 9, SIGPIPE: 13,
  SIGPOLL: 29, SIGPROF: 27, SIGPWR: 30, SIGQUIT: 3, SIGSEGV: 11, SIGSTKFLT: 16,
  SIGSTOP: 19, SIGSYS: 31, SIGTERM: 15, SIGTRAP: 5, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGUSR1: 10, SIGUSR2: 12, SIGVTALRM: 26, SIGWINCH: 28, SIGXCPU: 24, SIGXFSZ: 25,
};

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * Validates a signal given as `SIGTERM`, `term` or `15` (and `SIGRTMIN+3`) and returns the
 * canonical name the Engine API accepts.
 */
export function parseSignal(input: string): string {
  const raw = input.trim();
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    const named = Object.entries(LINUX_SIGNALS).find(([name, num]) => num === n && name !== 'SIGCLD' && name !== 'SIGIOT' && name !== 'SIGPOLL');
    if (named) return named[0];
    if (n >= SIGRTMIN && n <= SIGRTMAX) return String(n);
    throw badSignal(input);
  }
  const upper = raw.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (name in LINUX_SIGNALS) return name;
  const rt = /^SIGRT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const n = base + Number(rt[2] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return String(n);
  }
  throw badSignal(input);
}

export function signalNumber(name: string): number | undefined {
  return LINUX_SIGNALS[name] ?? (/^\d+$/.test(name) ? Number(name) : undefined);
}

function badSignal(input: string) {
  return invalidArgument(
    `invalid signal '${input}': not a Linux signal`,
    'use a name such as SIGKILL, SIGTERM, SIGHUP, SIGUSR1 (or its number)',
  );
}
