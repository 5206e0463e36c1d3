import { describe, expect, it } from 'vitest';
import { classifyPullError } from './errors.js';

describe('classifyPullError', () => {
  const code = (m: string) => classifyPullError('r:5000/app:1', m).code;
  it('names one cause per engine message', () => {
    expect(code('Head "https://127.0.0.1:5000/v2/app/manifests/1": no basic auth credentials')).toBe('REGISTRY_UNAUTHORIZED');
    expect(code('Get "https://127.0.0.1:5000/v2/": unauthorized: authentication required')).toBe('REGISTRY_UNAUTHORIZED');
    expect(code('manifest for 127.0.0.1:5000/app:nope not found: manifest unknown: manifest unknown')).toBe('TARGET_NOT_FOUND');
    expect(code("pull access denied for nope/app, repository does not exist or may require 'docker login'")).toBe('TARGET_NOT_FOUND');
    expect(code('toomanyrequests: You have reached your pull rate limit.')).toBe('REGISTRY_RATE_LIMITED');
    expect(code('Get "https://127.0.0.1:5000/v2/": x509: certificate signed by unknown authority')).toBe('REGISTRY_TLS');
    expect(code('received unexpected HTTP status: 503 Service Unavailable')).toBe('REGISTRY_UNREACHABLE');
    expect(code('Get "https://127.0.0.1:5000/v2/": net/http: TLS handshake timeout')).toBe('TIMEOUT');
    expect(code('Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused')).toBe('REGISTRY_UNREACHABLE');
    expect(code('something else entirely')).toBe('ENGINE_ERROR');
  });
});
