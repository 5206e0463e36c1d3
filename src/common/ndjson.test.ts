import { describe, expect, it } from 'vitest';
import { jsonLine, jsonLineProblems } from './ndjson.js';

describe('the --json line shape', () => {
  it('writes level, time, event, the fields and msg, on one line', () => {
    const line = jsonLine('warn', 'unit-warning', 'unit a.service: no ExecStart', { unit: 'a.service', level: 'spoofed', msg: 'spoofed' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd()).not.toContain('\n');
    const o = JSON.parse(line);
    expect(o).toMatchObject({ level: 'warn', event: 'unit-warning', msg: 'unit a.service: no ExecStart', unit: 'a.service' });
    expect(new Date(o.time).toISOString()).toBe(o.time);
    expect(jsonLineProblems(line)).toEqual([]);
  });

  it('is what createJsonLogger writes, with or without an event', async () => {
    const { createJsonLogger } = await import('../common/log.js');
    const { mkdtempSync, openSync, readFileSync, closeSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'kiboko-ndjson-')), 'out');
    const fd = openSync(file, 'w');
    const log = createJsonLogger('info', fd);
    log.info({ event: 'run-started', seed: 1 }, 'chaos: kill');
    log.warn('stopping: SIGTERM');
    log.debug({ event: 'hidden' }, 'below --log-level info');
    log.error({ event: 'failed', error: { code: 'X' } }, 'it failed');
    closeSync(fd);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => jsonLineProblems(l))).toEqual([[], [], []]);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'info', event: 'run-started', seed: 1, msg: 'chaos: kill' }),
      expect.objectContaining({ level: 'warn', event: 'log', msg: 'stopping: SIGTERM' }),
      expect.objectContaining({ level: 'error', event: 'failed', error: { code: 'X' }, msg: 'it failed' }),
    ]);
  });

  it('names what is missing or wrong', () => {
    expect(jsonLineProblems('nope')).toEqual(['not JSON']);
    expect(jsonLineProblems('[1]')).toEqual(['not a JSON object']);
    expect(jsonLineProblems(JSON.stringify({ level: 'warn', msg: 'x' }))).toEqual([
      'time undefined is not an ISO time in UTC',
      'event undefined is not a kebab-case name',
    ]);
    expect(jsonLineProblems(JSON.stringify({ level: 'warning', time: '2026-01-01T00:00:00.000Z', event: 'Listening', msg: 1 }))).toHaveLength(3);
  });
});
