import { createConnection } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ProxyApiError, type Toxic } from '../../proxy/index.js';
import { parseControlLine, sendToHold, startHoldControl, type HoldCommand } from './control.js';

const lat: Toxic = { name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 300, jitter: 0 } };

/** What a raw client gets back for one line (the socket is reachable by any local process). */
const rawLine = (socket: string, line: string) =>
  new Promise<string>((resolve) => {
    const c = createConnection(`\0${socket}`);
    let out = '';
    c.on('connect', () => c.write(line));
    c.on('data', (d) => (out += d.toString()));
    c.on('close', () => resolve(out));
  });

describe('the hold control channel', () => {
  it('carries a toxics change to the holder, one at a time, and answers once it is applied', async () => {
    const seen: HoldCommand[] = [];
    let running = 0;
    const control = await startHoldControl(async (c) => {
      expect(++running).toBe(1);
      await new Promise((r) => setTimeout(r, 20));
      seen.push(c);
      running--;
    });
    try {
      await Promise.all([sendToHold(control.address, { op: 'toxics', proxy: 'incoming-80', toxics: [lat] }), sendToHold(control.address, { op: 'enabled', proxy: 'outgoing', enabled: false })]);
      expect(seen).toEqual([
        { op: 'toxics', proxy: 'incoming-80', toxics: [lat] },
        { op: 'enabled', proxy: 'outgoing', enabled: false },
      ]);
    } finally {
      await control.close();
    }
  });

  it('a change the holder refuses, or a holder that is gone, is a 409 with the reason', async () => {
    const control = await startHoldControl(async () => {
      throw new Error('this fault has no listener incoming-81');
    });
    const err = await sendToHold(control.address, { op: 'toxics', proxy: 'incoming-81', toxics: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyApiError);
    expect(err).toMatchObject({ status: 409, message: expect.stringMatching(/refused the change: this fault has no listener incoming-81/) });
    await control.close();
    const gone = await sendToHold(control.address, { op: 'toxics', proxy: 'incoming-80', toxics: [] }).catch((e: unknown) => e);
    expect(gone).toMatchObject({ status: 409, message: expect.stringMatching(/does not answer.*kiboko chaos recover/) });
  });

  it('refuses lines without the token, and garbage, before acting on them', async () => {
    let calls = 0;
    const control = await startHoldControl(async () => void calls++);
    try {
      const { socket, token } = control.address;
      expect(await rawLine(socket, `${JSON.stringify({ token: 'x', op: 'toxics', proxy: 'outgoing', toxics: [] })}\n`)).toMatch(/"ok":false.*bad token/);
      expect(await rawLine(socket, 'not json\n')).toMatch(/"ok":false.*not JSON/);
      expect(await rawLine(socket, `${JSON.stringify({ token, op: 'toxics', proxy: 'outgoing', toxics: [{ type: 'nonsense' }] })}\n`)).toMatch(/"ok":false.*invalid toxic/);
      expect(calls).toBe(0);
      expect(await rawLine(socket, `${JSON.stringify({ token, op: 'toxics', proxy: 'outgoing', toxics: [] })}\n`)).toMatch(/"ok":true/);
      expect(calls).toBe(1);
    } finally {
      await control.close();
    }
  });

  it('parseControlLine checks the token, the op, the listener name, each toxic and enabled', () => {
    const line = (o: Record<string, unknown>) => JSON.stringify({ token: 't', op: 'toxics', proxy: 'incoming-80', toxics: [lat], ...o });
    expect(parseControlLine(line({}), 't')).toEqual({ op: 'toxics', proxy: 'incoming-80', toxics: [lat] });
    expect(parseControlLine(line({ op: 'enabled', enabled: false }), 't')).toEqual({ op: 'enabled', proxy: 'incoming-80', enabled: false });
    expect(() => parseControlLine(line({ op: 'enabled', enabled: 'no' }), 't')).toThrow(/true or false/);
    expect(() => parseControlLine(line({ token: 'u' }), 't')).toThrow(/bad token/);
    expect(() => parseControlLine(line({ op: 'http' }), 't')).toThrow(/unknown op/);
    expect(() => parseControlLine(line({ proxy: '../x' }), 't')).toThrow(/incoming-<port> or outgoing/);
    expect(() => parseControlLine(line({ toxics: 'x' }), 't')).toThrow(/list/);
    expect(() => parseControlLine('[]', 't')).toThrow(/bad token/);
  });
});
