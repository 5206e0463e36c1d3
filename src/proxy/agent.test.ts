import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startAgent } from './agent.js';

/** Whether a TCP connection to 127.0.0.1:port is accepted or refused. */
const reach = (port: number) =>
  new Promise<'accepted' | 'refused'>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', () => resolve('refused'));
  });

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

describe('the agent down and up (toxiproxy’s enabled)', () => {
  it('started down, its listener refuses connections; enabled, it accepts them on the same port; one listener at a time', async () => {
    const backend = createServer((c) => c.end()).listen(0, '127.0.0.1');
    await new Promise((r) => backend.once('listening', r));
    const agent = await startAgent({ incoming: [(backend.address() as AddressInfo).port, 1], outgoing: false, toxics: [], httpFaults: [], down: true });
    try {
      const ports = agent.proxies.map((p) => agent.ready.incoming[p.name.slice('incoming-'.length)]!);
      expect(await Promise.all(ports.map(reach))).toEqual(['refused', 'refused']);
      await agent.setEnabled(true, agent.proxies[0]!.name);
      expect(await Promise.all(ports.map(reach))).toEqual(['accepted', 'refused']);
      expect(agent.proxies.map((p) => Number(p.listen.split(':').pop()))).toEqual(ports);
      await agent.setEnabled(false);
      expect(await Promise.all(ports.map(reach))).toEqual(['refused', 'refused']);
      await expect(agent.setEnabled(true, 'outgoing')).rejects.toThrow(/no listener named outgoing/);
    } finally {
      await agent.close();
      backend.close();
    }
  });
});
