import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { hubSignature, hubSignatureMatches } from './auth.js';
import { normalizeRepository, parseHookPayload, sameRepository } from './webhook.js';

describe('deploy hook payloads', () => {
  it("reads kiboko's own payload", () => {
    expect(parseHookPayload({ service: 'web', tag: '1.2.3' })).toEqual({ kind: 'notices', ignored: 0, notices: [{ source: 'kiboko', service: 'web', tag: '1.2.3' }] });
    expect(parseHookPayload({ service: 'web', tag: '100-develop', project: 'shop' })).toEqual({
      kind: 'notices',
      ignored: 0,
      notices: [{ source: 'kiboko', service: 'web', tag: '100-develop', project: 'shop' }],
    });
  });

  it("reads Docker Hub's push webhook (push_data.tag, repository.repo_name)", () => {
    const body = { callback_url: 'https://registry.hub.docker.com/u/acme/web/hook/x/', push_data: { pushed_at: 1417566161, pusher: 'ci', tag: '2.0.1' }, repository: { repo_name: 'acme/web', name: 'web', namespace: 'acme' } };
    expect(parseHookPayload(body)).toEqual({ kind: 'notices', ignored: 0, notices: [{ source: 'dockerhub', repository: 'docker.io/acme/web', tag: '2.0.1' }] });
  });

  it('reads a registry v2 notification envelope: tag pushes only, the rest ignored', () => {
    const body = {
      events: [
        { id: 'a', action: 'push', target: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', repository: 'team/web', tag: '1.4.0', digest: 'sha256:x' }, request: { host: 'registry.example.com:5000' } },
        { id: 'b', action: 'push', target: { mediaType: 'application/octet-stream', repository: 'team/web', digest: 'sha256:y' } },
        { id: 'c', action: 'pull', target: { repository: 'team/web', tag: '1.4.0' } },
      ],
    };
    expect(parseHookPayload(body)).toEqual({ kind: 'notices', ignored: 2, notices: [{ source: 'registry', repository: 'registry.example.com:5000/team/web', tag: '1.4.0' }] });
  });

  it("reads GitHub's registry_package and package events (container_metadata.tag.name), and answers ping", () => {
    const pkg = (tag: string | null) => ({ name: 'web', namespace: 'Acme', package_type: 'CONTAINER', package_version: { package_url: tag ? `ghcr.io/acme/web:${tag}` : 'ghcr.io/acme/web', container_metadata: { tag: { name: tag, digest: 'sha256:z' } } } });
    expect(parseHookPayload({ action: 'published', registry_package: pkg('3.1.0') })).toEqual({ kind: 'notices', ignored: 0, notices: [{ source: 'github', repository: 'ghcr.io/acme/web', tag: '3.1.0' }] });
    expect(parseHookPayload({ action: 'published', package: { ...pkg('3.1.0'), package_version: { container_metadata: { tag: { name: '3.1.0' } } } } })).toEqual({
      kind: 'notices',
      ignored: 0,
      notices: [{ source: 'github', repository: 'ghcr.io/acme/web', tag: '3.1.0' }],
    });
    expect(parseHookPayload({ action: 'published', registry_package: pkg(null) })).toEqual({ kind: 'notices', ignored: 1, notices: [] });
    expect(parseHookPayload({ zen: 'hi', hook_id: 1 }, 'ping')).toEqual({ kind: 'ping' });
  });

  it('refuses bad payloads with INVALID_ARGUMENT naming the field', () => {
    const bad = (body: unknown) => {
      try {
        parseHookPayload(body);
      } catch (err) {
        expect(err).toBeInstanceOf(KibokoError);
        return (err as KibokoError).message;
      }
      throw new Error('expected a refusal');
    };
    expect(bad({ service: 'web' })).toMatch(/tag/);
    expect(bad({ service: 'web', tag: '-bad' })).toMatch(/Docker tag/);
    expect(bad({ service: 'web', tag: 'a'.repeat(129) })).toMatch(/Docker tag/);
    expect(bad([1, 2])).toMatch(/JSON object/);
    expect(bad(null)).toMatch(/JSON object/);
    expect(bad({ push_data: { tag: 1 }, repository: { repo_name: 'a/b' } })).toMatch(/push_data\.tag/);
    expect(bad({ events: 'x' })).toMatch(/events/);
    expect(bad({ service: 'web', tag: '1', project: 'Bad Name' })).toMatch(/project/);
  });

  it('never throws anything but a KibokoError on arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ service: fc.jsonValue(), tag: fc.jsonValue() }), fc.record({ events: fc.array(fc.record({ action: fc.constantFrom('push', 'pull'), target: fc.record({ repository: fc.string(), tag: fc.string() }) })) })), (body) => {
        try {
          parseHookPayload(body);
        } catch (err) {
          expect(err).toBeInstanceOf(KibokoError);
          expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('repository matching', () => {
  it('normalizes Docker Hub names and keeps registry hosts', () => {
    expect(normalizeRepository('nginx')).toEqual({ host: 'docker.io', path: 'library/nginx' });
    expect(normalizeRepository('index.docker.io/acme/web')).toEqual({ host: 'docker.io', path: 'acme/web' });
    expect(normalizeRepository('localhost:5000/web')).toEqual({ host: 'localhost:5000', path: 'web' });
    expect(normalizeRepository('ghcr.io/Acme/Web')).toEqual({ host: 'ghcr.io', path: 'acme/web' });
  });

  it('matches hub and GitHub notices by host and path; registry notices by path', () => {
    expect(sameRepository({ source: 'dockerhub', repository: 'docker.io/acme/web', tag: '1' }, 'acme/web')).toBe(true);
    expect(sameRepository({ source: 'dockerhub', repository: 'docker.io/acme/web', tag: '1' }, 'ghcr.io/acme/web')).toBe(false);
    expect(sameRepository({ source: 'github', repository: 'ghcr.io/acme/web', tag: '1' }, 'ghcr.io/acme/web')).toBe(true);
    expect(sameRepository({ source: 'registry', repository: 'reg.internal/team/web', tag: '1' }, 'reg.example.com:5000/team/web')).toBe(true);
    expect(sameRepository({ source: 'registry', repository: 'web', tag: '1' }, 'localhost:5000/web')).toBe(true);
    expect(sameRepository({ source: 'registry', repository: 'team/api', tag: '1' }, 'localhost:5000/team/web')).toBe(false);
  });
});

describe('HMAC signatures (X-Hub-Signature-256)', () => {
  it('accepts exactly the HMAC-SHA256 of the raw body with the secret', () => {
    const body = Buffer.from('{"service":"web","tag":"1.2.3"}');
    const sig = hubSignature(body, 'it-is-a-secret');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(hubSignatureMatches(body, sig, 'it-is-a-secret')).toBe(true);
    expect(hubSignatureMatches(body, sig.toUpperCase().replace('SHA256', 'sha256'), 'it-is-a-secret')).toBe(true);
    expect(hubSignatureMatches(Buffer.from(`${body} `), sig, 'it-is-a-secret')).toBe(false);
    expect(hubSignatureMatches(body, sig, 'another-secret')).toBe(false);
    expect(hubSignatureMatches(body, sig.slice(0, -1), 'it-is-a-secret')).toBe(false);
    expect(hubSignatureMatches(body, `sha1=${sig.slice(7)}`, 'it-is-a-secret')).toBe(false);
    expect(hubSignatureMatches(body, undefined, 'it-is-a-secret')).toBe(false);
    expect(hubSignatureMatches(body, sig, undefined)).toBe(false);
  });
});
