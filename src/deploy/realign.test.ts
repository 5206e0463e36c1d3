import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realignComposeFiles } from './realign.js';

const dirs: string[] = [];
function files(texts: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-realign-'));
  dirs.push(dir);
  return Object.entries(texts).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const COMPOSE = `# the shop
services:
  web:
    image: "registry.local:5000/shop/web:v2"   # bumped by CI
    ports: ["8080:80"]
  db:
    image: busybox:1
`;

describe('realignComposeFiles', () => {
  it('rewrites a literal tag back to the running one, every other byte kept', () => {
    const [f] = files({ 'compose.yaml': COMPOSE });
    const r = realignComposeFiles([f!], [{ service: 'web', image: 'registry.local:5000/shop/web:v1' }, { service: 'db', image: 'busybox:1' }]);
    expect(r).toEqual([
      { service: 'web', outcome: 'rewritten', file: f, before: 'registry.local:5000/shop/web:v2', after: 'registry.local:5000/shop/web:v1' },
      { service: 'db', outcome: 'in-line', file: f, image: 'busybox:1' },
    ]);
    expect(readFileSync(f!, 'utf8')).toBe(COMPOSE.replace('web:v2', 'web:v1'));
  });

  it('leaves an interpolated image alone and gives the set-tag command instead', () => {
    const text = 'services:\n  web:\n    image: shop/web:${WEB_TAG:-v2}\n';
    const [f] = files({ 'compose.yaml': text });
    const [r] = realignComposeFiles([f!], [{ service: 'web', image: 'shop/web:v1' }], { display: () => 'compose.yaml' });
    expect(r).toMatchObject({ outcome: 'manual', command: ['kiboko', 'deploy', 'set-tag', '-f', 'compose.yaml', 'web', 'v1'] });
    expect(r!.outcome === 'manual' && r!.reason).toContain('${WEB_TAG:-v2}');
    expect(readFileSync(f!, 'utf8')).toBe(text);
  });

  it('an interpolated image that already gives the running one is in line', () => {
    const [f] = files({ 'compose.yaml': 'services:\n  web:\n    image: shop/web:${TAG}\n' });
    expect(realignComposeFiles([f!], [{ service: 'web', image: 'shop/web:v1', configured: 'shop/web:v1' }])[0]?.outcome).toBe('in-line');
  });

  it('edits the file that sets the image last (an override file wins)', () => {
    const [base, override] = files({ 'compose.yaml': 'services:\n  web:\n    image: shop/web:v0\n', 'compose.override.yaml': "services:\n  web:\n    image: 'shop/web:v2'\n" });
    const [r] = realignComposeFiles([base!, override!], [{ service: 'web', image: 'shop/web:v1' }]);
    expect(r).toMatchObject({ outcome: 'rewritten', file: override });
    expect(readFileSync(override!, 'utf8')).toBe("services:\n  web:\n    image: 'shop/web:v1'\n");
    expect(readFileSync(base!, 'utf8')).toBe('services:\n  web:\n    image: shop/web:v0\n');
  });

  it('does not change the repository (set-tag changes tags only), a digest, or a file it must not write', () => {
    const text = 'services:\n  web:\n    image: shop/web:v2\n';
    const [f] = files({ 'compose.yaml': text });
    const [other] = realignComposeFiles([f!], [{ service: 'web', image: 'mirror/web:v1' }]);
    expect(other).toMatchObject({ outcome: 'manual', reason: expect.stringContaining('changes tags only') });
    expect(other).not.toHaveProperty('command');
    const [digest] = realignComposeFiles([f!], [{ service: 'web', image: `shop/web@sha256:${'a'.repeat(64)}` }]);
    expect(digest).toMatchObject({ outcome: 'manual' });
    const [ro] = realignComposeFiles([f!], [{ service: 'web', image: 'shop/web:v1' }], { write: false, readOnlyReason: 'from git' });
    expect(ro).toMatchObject({ outcome: 'manual', reason: 'from git', command: ['kiboko', 'deploy', 'set-tag', '-f', f, 'web', 'v1'] });
    expect(readFileSync(f!, 'utf8')).toBe(text);
  });

  it('says so when no file sets the image (unit files, extends)', () => {
    const [f] = files({ 'compose.yaml': 'services:\n  web:\n    extends: {file: base.yaml, service: web}\n' });
    expect(realignComposeFiles([f!], [{ service: 'web', image: 'shop/web:v1' }])[0]).toMatchObject({ outcome: 'manual', reason: expect.stringContaining('no services.web.image') });
    expect(realignComposeFiles(['/x/web.service'], [{ service: 'web', image: 'shop/web:v1' }])[0]).toMatchObject({ outcome: 'manual', reason: expect.stringContaining('not a compose file') });
  });
});
