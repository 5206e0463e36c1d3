import { describe, expect, it } from 'vitest';
import { targetsFromFlags } from './chaos-targets.js';

describe('chaos --project/--service targets', () => {
  it('selects a service’s replicas by their deploy labels, whatever their names', () => {
    const q = targetsFromFlags([], { project: 'shop', service: 'web' });
    expect(q.labels).toEqual(['kiboko.deploy.project=shop', 'kiboko.deploy.slot', 'kiboko.deploy.service=web']);
    expect(q.names).toEqual([]);
    expect(q.patterns.map((p) => p.source)).toEqual(['.']);
  });
  it('keeps names, patterns and --label filters, ANDed with the project', () => {
    const q = targetsFromFlags(['re2:-1-'], { project: 'shop', label: ['tier=front'] });
    expect(q.labels).toEqual(['tier=front', 'kiboko.deploy.project=shop', 'kiboko.deploy.slot']);
    expect(q.patterns.map((p) => p.source)).toEqual(['-1-']);
  });
  it('refuses --service without --project', () => {
    expect(() => targetsFromFlags([], { service: 'web' })).toThrow(/--service needs --project/);
  });
  it('without --project, is the Pumba query', () => {
    const q = targetsFromFlags(['web-1'], {});
    expect(q).toMatchObject({ names: ['web-1'], patterns: [], labels: [] });
  });
});
