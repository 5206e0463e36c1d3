import { describe, expect, it } from 'vitest';
import { normalizeImageRef, runsConfigured } from './services-view.js';

describe('configured vs running image', () => {
  it('normalises references that name the same image', () => {
    expect(normalizeImageRef('nginx')).toBe('docker.io/library/nginx:latest');
    expect(normalizeImageRef('docker.io/library/nginx:latest')).toBe('docker.io/library/nginx:latest');
    expect(normalizeImageRef('acme/web:1.0')).toBe('docker.io/acme/web:1.0');
    expect(normalizeImageRef('localhost:5000/team/web')).toBe('localhost:5000/team/web:latest');
    expect(normalizeImageRef('ghcr.io/acme/api:v2')).toBe('ghcr.io/acme/api:v2');
    expect(normalizeImageRef(`acme/web@sha256:${'a'.repeat(64)}`)).toBe(`docker.io/acme/web@sha256:${'a'.repeat(64)}`);
  });

  it('marks a replica that runs another tag (or an untagged id) as differing', () => {
    expect(runsConfigured('acme/web:1.0', { image: 'docker.io/acme/web:1.0' })).toBe(true);
    expect(runsConfigured('acme/web:1.1', { image: 'acme/web:1.0' })).toBe(false);
    expect(runsConfigured('acme/web', { image: 'acme/web:latest' })).toBe(true);
    expect(runsConfigured('acme/web:1.0', { image: `sha256:${'b'.repeat(64)}` })).toBe(false);
  });
});
