import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import { delayActionFromFlags, proxyActionFromFlags, proxyFormOfNetemDelay } from './chaos-proxy.js';

describe('chaos proxy flags', () => {
  it('builds toxics from --toxic specs and the --latency shorthand', () => {
    const a = proxyActionFromFlags({ duration: '30s', port: ['80,81'], toxic: ['bandwidth:rate=100,stream=upstream', 'reset_peer:timeout=0,toxicity=0.5'], latency: '200ms', jitter: '20' });
    expect(a).toMatchObject({
      kind: 'proxy',
      durationMs: 30_000,
      incomingPorts: [80, 81],
      outgoing: [],
      toxics: [
        { name: 'bandwidth_upstream', type: 'bandwidth', stream: 'upstream', toxicity: 1, attributes: { rate: 100 } },
        { name: 'reset_peer_downstream', type: 'reset_peer', toxicity: 0.5, attributes: { timeout: 0 } },
        { name: 'latency_downstream', type: 'latency', attributes: { latency: 200, jitter: 20 } },
      ],
    });
  });

  it('builds one HTTP fault from the --http-* flags', () => {
    const a = proxyActionFromFlags({ duration: '1m', to: ['api:8080'], httpAbort: '503', httpPath: '/api/*', httpFirst: '3', httpHeader: ['X-Env: prod*'], httpResponseHeader: ['Retry-After: 1'], httpBody: 'busy' });
    expect(a).toMatchObject({
      outgoing: [{ host: 'api', port: 8080 }],
      httpFaults: [{ match: { path: '/api/*', headers: { 'X-Env': 'prod*' } }, action: { abort: { status: 503, body: 'busy', headers: { 'Retry-After': '1' } } }, first: 3 }],
    });
  });

  it('refuses what cannot work, before anything runs', () => {
    thrown(() => proxyActionFromFlags({ duration: '10s', toxic: ['latency:latency=1'] })); // no traffic named
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'] })); // no fault
    thrown(() => proxyActionFromFlags({ port: ['80'], latency: '10' })); // no duration
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['latency:latency=-1'] }));
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['nope'] }));
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['latency:stream=sideways'] }));
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], httpPath: '/x' })); // match without a fault
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], httpAbort: '99' }));
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], httpAbort: '503', httpDelay: '1s' }));
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], httpAbort: '503', httpPath: 're2:(' }));
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['latency:latency=1', 'latency:latency=2'] })); // same name twice
    thrown(() => proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['down:x=1'] })); // down takes no attributes
  });

  it('--toxic down: toxiproxy’s down (the proxy disabled), alone or beside toxics', () => {
    expect(proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['down'] })).toMatchObject({ down: true, toxics: [] });
    expect(proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['down', 'latency:latency=5'] })).toMatchObject({ down: true, toxics: [{ type: 'latency' }] });
    expect(proxyActionFromFlags({ duration: '10s', port: ['80'], toxic: ['latency:latency=5'] })).toMatchObject({ down: false });
  });
});

describe('chaos delay', () => {
  it('uses netem when the kernel has it', () => {
    const r = delayActionFromFlags({ duration: '10s', time: '150', jitter: '10' }, true);
    expect(r.via).toMatch(/netem/);
    expect(r.action).toMatchObject({ kind: 'netem', effects: { delay: { timeMs: 150, jitterMs: 10 } } });
  });
  it('uses the proxy without netem: egress latency on the named traffic', () => {
    const r = delayActionFromFlags({ duration: '10s', time: '150', port: ['80'], to: ['db:5432'] }, false);
    expect(r.via).toMatch(/proxy/);
    expect(r.action).toMatchObject({
      kind: 'proxy',
      incomingPorts: [80],
      toxics: [
        { stream: 'downstream', attributes: { latency: 150 } },
        { stream: 'upstream', attributes: { latency: 150 } },
      ],
    });
  });
  it('without netem needs the traffic named', () => {
    thrown(() => delayActionFromFlags({ duration: '10s', time: '150' }, false));
  });
  it('netem delay without netem suggests the proxy form, as a command line', () => {
    expect(proxyFormOfNetemDelay({ duration: '30s', time: '200', jitter: '0', egressPort: ['80'] }, ['web-1'])).toBe('kiboko chaos delay --duration 30s --time 200 --jitter 0 --port 80 web-1');
    expect(proxyFormOfNetemDelay({ duration: '1m', target: ['db'], ingressPort: ['5432'] }, ['re2:^app'])).toBe("kiboko chaos delay --duration 1m --time 100 --jitter 10 --to db:5432 're2:^app'");
  });
});
