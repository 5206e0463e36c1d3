import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../src/template/index.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

/** The etcd backend against a real etcd: confd's key selection, and prefix watches. */
let etcd: EtcdServer;
let client: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.url });
  for (const [k, v] of Object.entries({ '/app/db/host': 'db', '/app/db/port': '5432', '/app/dbx': 'other', '/app/db': 'self', '/web/x': '1' })) await client.put(k).value(v);
});
afterAll(async () => {
  client?.close();
  await etcd?.stop();
});

describe('etcd backend', () => {
  it('selects the key itself and what lies under key/ (not key-prefixed siblings)', async () => {
    const b = await backends.etcdBackend({ nodes: [etcd.url] });
    try {
      expect(Object.fromEntries(await b.getValues(['/app/db']))).toEqual({ '/app/db': 'self', '/app/db/host': 'db', '/app/db/port': '5432' });
      expect(Object.fromEntries(await b.getValues(['/app/db/', '/web']))).toEqual({ '/app/db/host': 'db', '/app/db/port': '5432', '/web/x': '1' });
    } finally {
      await b.close();
    }
  });

  it('accepts a bare host:port node, and watches prefixes', async () => {
    const b = await backends.etcdBackend({ nodes: [etcd.url.replace('http://', '')] });
    const ac = new AbortController();
    const seen: (string[] | undefined)[] = [];
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const watching = b.watch!(['/app'], ac.signal, { onChange: (k) => seen.push(k), onReady: ready });
    await isReady;
    await client.put('/app/db/host').value('db2');
    await client.delete().key('/app/dbx');
    await client.put('/web/x').value('2');
    const end = Date.now() + 5_000;
    while (seen.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await watching;
    await b.close();
    expect(seen).toEqual([['/app/db/host'], ['/app/dbx']]);
  });

  it('an unreachable etcd is ENGINE_UNREACHABLE with a hint', async () => {
    const b = await backends.etcdBackend({ nodes: ['http://127.0.0.1:1'], requestTimeoutMs: 500 });
    try {
      await expect(b.getValues(['/x'])).rejects.toMatchObject({ code: 'ENGINE_UNREACHABLE' });
    } finally {
      await b.close();
    }
  });
});
