import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/index.js';
import { engineFilters, eventKey, matchesFilters, parseFilterArgs, wantsEngineEvents } from './filters.js';
import { compareNano, nanoToSeconds, parseEventTime } from './time.js';
import { compileTemplate, eventContext } from './interpolate.js';
import { humanEventLine, isoNano } from './format.js';

const ev = (over: Partial<EngineEvent> = {}): EngineEvent => ({
  type: 'container',
  action: 'die',
  id: 'a'.repeat(64),
  attributes: { name: 'db-1', image: 'postgres:16', app: 'db', exitCode: '137', 'com.example.tier': 'data' },
  time: 1_700_000_000,
  timeNano: '1700000000123456789',
  scope: 'local',
  ...over,
});

const caught = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; hint?: string };
  }
  throw new Error('expected an error');
};

describe('docker events filters', () => {
  it('parses repeatable key=value flags, labels keeping their own =', () => {
    expect(parseFilterArgs(['type=container', 'event=die', 'event=oom', 'label=app=db', 'label=tier'])).toEqual({
      type: ['container'],
      event: ['die', 'oom'],
      label: ['app=db', 'tier'],
    });
  });

  it('refuses unknown keys, missing values and unknown types with the accepted ones', () => {
    expect(caught(() => parseFilterArgs(['colour=red'])).message).toMatch(/unknown key 'colour'/);
    expect(caught(() => parseFilterArgs(['type'])).message).toMatch(/expected key=value/);
    expect(caught(() => parseFilterArgs(['event='])).message).toMatch(/empty value/);
    expect(caught(() => parseFilterArgs(['type=containers'])).hint).toMatch(/container, image/);
  });

  it('matches as the engine does: keys AND, values OR, labels AND, names and id prefixes', () => {
    const e = ev();
    expect(matchesFilters(e, {})).toBe(true);
    expect(matchesFilters(e, { type: ['container'], event: ['die', 'oom'] })).toBe(true);
    expect(matchesFilters(e, { type: ['container'], event: ['start'] })).toBe(false);
    expect(matchesFilters(e, { label: ['app=db', 'com.example.tier'] })).toBe(true);
    expect(matchesFilters(e, { label: ['app=db', 'com.example.tier=web'] })).toBe(false);
    expect(matchesFilters(e, { container: ['db-1'] })).toBe(true);
    expect(matchesFilters(e, { container: ['aaaaaaaaaaaa'] })).toBe(true);
    expect(matchesFilters(e, { container: ['web'] })).toBe(false);
    expect(matchesFilters(e, { image: ['postgres'] })).toBe(true);
    expect(matchesFilters(e, { image: ['postgres:16'] })).toBe(true);
    expect(matchesFilters(e, { image: ['redis'] })).toBe(false);
    expect(matchesFilters(e, { scope: ['swarm'] })).toBe(false);
  });

  it('lets health_status match every health action, and exact ones only themselves', () => {
    const e = ev({ action: 'health_status: unhealthy' });
    expect(matchesFilters(e, { event: ['health_status'] })).toBe(true);
    expect(matchesFilters(e, { event: ['health_status: unhealthy'] })).toBe(true);
    expect(matchesFilters(e, { event: ['health_status: healthy'] })).toBe(false);
  });

  it('keeps kiboko types out of the engine request', () => {
    expect(engineFilters({ type: ['container', 'deploy'], event: ['die'] })).toEqual({ type: ['container'], event: ['die'] });
    expect(wantsEngineEvents({ type: ['deploy'] })).toBe(false);
    expect(wantsEngineEvents({ type: ['deploy', 'container'] })).toBe(true);
    expect(wantsEngineEvents({})).toBe(true);
  });

  it('keys events by time, type, id and action', () => {
    expect(eventKey(ev())).toBe(`1700000000123456789|container|${'a'.repeat(64)}|die`);
  });
});

describe('event times', () => {
  it('turns nanoseconds into the since the engine takes, exactly', () => {
    expect(nanoToSeconds('1700000000123456789')).toBe('1700000000.123456789');
    expect(nanoToSeconds('5')).toBe('0.000000005');
    expect(compareNano('1700000000123456789', '1700000000123456790')).toBe(-1);
    expect(compareNano(undefined, '1')).toBe(-1);
  });

  it('reads --since as a duration back, unix seconds or an ISO date', () => {
    const now = Date.parse('2026-01-02T03:04:05Z');
    expect(parseEventTime('10m', now)).toBe(String(BigInt(now - 600_000) * 1_000_000n));
    expect(parseEventTime('1700000000', now)).toBe('1700000000000000000');
    expect(parseEventTime('1700000000.5', now)).toBe('1700000000500000000');
    expect(parseEventTime('2026-01-02T03:00:00Z', now)).toBe(String(BigInt(Date.parse('2026-01-02T03:00:00Z')) * 1_000_000n));
    expect(caught(() => parseEventTime('yesterday', now)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('templates and output', () => {
  it('interpolates event fields, attribute keys with dots and json', () => {
    const ctx = eventContext(ev(), 'r1');
    expect(compileTemplate('{{.Actor.Attributes.name}} died ({{.Actor.Attributes.exitCode}}) rule {{.Rule}}').render(ctx)).toBe('db-1 died (137) rule r1');
    expect(compileTemplate('{{index .Actor.Attributes "com.example.tier"}}').render(ctx)).toBe('data');
    expect(compileTemplate('{{json .Actor.Attributes.app}} {{.Missing}}|').render(ctx)).toBe('"db" <no value>|');
    expect(compileTemplate('{{if eq .Action "die"}}{{upper .Actor.Attributes.name}}{{end}} {{printf "%.3s" .Type}}').render(ctx)).toBe('DB-1 con');
  });

  it('rejects templates it cannot evaluate, when they are compiled', () => {
    expect(caught(() => compileTemplate('{{.Actor.Attributes.name')).message).toMatch(/unclosed/);
    expect(caught(() => compileTemplate('{{explode .Action}}')).message).toMatch(/function "explode" not defined/);
  });

  it('prints events as docker events does', () => {
    expect(isoNano('1700000000123456789')).toBe('2023-11-14T22:13:20.123456789Z');
    expect(humanEventLine(ev({ attributes: { name: 'db-1', image: 'x' } }))).toBe(`2023-11-14T22:13:20.123456789Z container die ${'a'.repeat(64)} (image=x, name=db-1)`);
  });
});
