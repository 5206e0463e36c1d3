import pino, { type Logger } from 'pino';
import { invalidArgument } from './errors.js';

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'fatal', 'panic'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Accepts Pumba's/logrus's level names (`warning`, `fatal`, `panic`) and pino's (`warn`, `trace`). */
export function parseLogLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === 'warn') return 'warning';
  if (v === 'trace') return 'debug';
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw invalidArgument(`invalid --log-level '${value}': expected one of ${LOG_LEVELS.join(', ')}`, 'use --log-level info');
}

const PINO_LEVEL: Record<LogLevel, string> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', fatal: 'fatal', panic: 'fatal' };
export const levelRank = (l: LogLevel): number => LOG_LEVELS.indexOf(l === 'panic' ? 'fatal' : l);

/** NDJSON structured logs (one object per line, ISO time, level as a word) for `--json` and CI. */
export function createJsonLogger(level: LogLevel, fd = 1): Logger {
  return pino(
    {
      level: PINO_LEVEL[level],
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd, sync: true }),
  );
}
