import { writeSync } from 'node:fs';
import { invalidArgument } from './errors.js';
import { jsonLine, type JsonLevel } from './ndjson.js';

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

const LINE_LEVEL: Record<LogLevel, JsonLevel> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error', fatal: 'fatal', panic: 'fatal' };
export const levelRank = (l: LogLevel): number => LOG_LEVELS.indexOf(l === 'panic' ? 'fatal' : l);

/** One method per level, pino's calling convention: `log.info({ event, …fields }, msg)` or `log.info(msg)`. */
export type JsonLogFn = (fieldsOrMsg: Record<string, unknown> | string, msg?: string) => void;
export interface JsonLogger {
  debug: JsonLogFn;
  info: JsonLogFn;
  warn: JsonLogFn;
  error: JsonLogFn;
  fatal: JsonLogFn;
  /** Lines are written synchronously; kept for callers that flush before exiting. */
  flush(): void;
}

/**
 * NDJSON structured logs for `--json` and CI, in the one shape of docs/json-output.md
 * (`{"level","time","event",…,"msg"}`; a line logged without an event gets `"event":"log"`).
 * Written synchronously, in order with the rest of stdout. (pino wrote these lines before; it
 * cost every command ~35 ms of start-up for a job this small — bench/startup.mjs.)
 */
export function createJsonLogger(level: LogLevel, fd = 1): JsonLogger {
  const min = levelRank(level);
  const out = fd === 1 ? (line: string) => void process.stdout.write(line) : (line: string) => void writeSync(fd, line);
  const at =
    (l: LogLevel): JsonLogFn =>
    (fieldsOrMsg, msg) => {
      if (levelRank(l) < min) return;
      const fields = typeof fieldsOrMsg === 'string' ? {} : fieldsOrMsg;
      const text = typeof fieldsOrMsg === 'string' ? fieldsOrMsg : (msg ?? '');
      const event = typeof fields.event === 'string' ? fields.event : 'log';
      out(jsonLine(LINE_LEVEL[l], event, text, fields));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warning'), error: at('error'), fatal: at('fatal'), flush: () => undefined };
}
