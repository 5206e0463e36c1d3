import { describe, expect, it } from 'vitest';
import { startAgent } from './agent.js';

const lat = { name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } };

describe('the transparent proxy agent', () => {
  it('replaces the toxics of every listener, or of one by its name; an unknown listener is an error that changes nothing', async () => {
    const agent = await startAgent({ incoming: [80, 8080], outgoing: false, toxics: [lat], httpFaults: [] });
    try {
      expect(agent.proxies.map((p) => p.name)).toEqual(['incoming-80', 'incoming-8080']);
      expect(agent.proxies.map((p) => p.toxics.length)).toEqual([1, 1]);
      agent.setToxics([], 'incoming-8080');
      expect(agent.proxies.map((p) => p.toxics.map((t) => t.name))).toEqual([['lat'], []]);
      expect(() => agent.setToxics([], 'outgoing')).toThrow(/no listener named outgoing \(listeners: incoming-80, incoming-8080\)/);
      expect(() => agent.setToxics([{ type: 'nonsense' }], 'incoming-80')).toThrow();
      expect(agent.proxies[0]!.toxics.map((t) => t.name)).toEqual(['lat']);
      agent.setToxics([]);
      expect(agent.proxies.map((p) => p.toxics.length)).toEqual([0, 0]);
    } finally {
      await agent.close();
    }
  });
});
