import { describe, expect, it } from 'vitest';
import { planResource } from './plan.js';
import type { TemplateResource } from './resource.js';

const res = (over: Partial<TemplateResource> = {}): TemplateResource => ({ file: 'a.toml', name: 'a.toml', src: '/t/a.tmpl', dest: '/etc/a.conf', keys: ['/a'], prefix: '/', ...over });
const file = (content: string, mode = 0o644, uid = 0, gid = 0) => ({ content: Buffer.from(content), mode, uid, gid });

describe('planResource', () => {
  it('a new file: 0644 by default, changed, diff from /dev/null', () => {
    const p = planResource(res(), 'port 80\n', undefined);
    expect(p).toMatchObject({ changed: true, reasons: ['new file'], mode: 0o644, uid: undefined, gid: undefined });
    expect(p.diff).toContain('--- /dev/null');
    expect(p.diff).toContain('+port 80');
  });

  it('unchanged when content and mode match; the current mode and owner are kept', () => {
    const p = planResource(res(), 'port 80\n', file('port 80\n', 0o600, 1000, 1000));
    expect(p).toMatchObject({ changed: false, reasons: [], mode: 0o600, uid: 1000, gid: 1000, diff: '' });
  });

  it('content changes give a unified diff', () => {
    const p = planResource(res(), 'port 81\n', file('port 80\n'));
    expect(p.reasons).toEqual(['content']);
    expect(p.diff).toMatch(/-port 80\n\+port 81/);
  });

  it('an explicit mode or owner that differs is a change (confd compares mode, uid, gid)', () => {
    expect(planResource(res({ mode: 0o600 }), 'x', file('x')).reasons).toEqual(['mode 0644 → 0600']);
    expect(planResource(res({ uid: 33 }), 'x', file('x')).reasons).toEqual(['uid 0 → 33']);
    expect(planResource(res({ gid: 33 }), 'x', file('x', 0o644, 0, 33)).changed).toBe(false);
    const both = planResource(res({ mode: 0o600 }), 'y\n', file('x\n'));
    expect(both.diff).toMatch(/-x\n\+y\n[\s\S]*\/etc\/a\.conf: mode 0644 → 0600\n$/);
  });
});
