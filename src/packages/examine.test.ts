import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import { examine } from './examine.js';
import { buildRecord, encodeLabels, METADATA_FILE, type PackageRecord } from './metadata.js';

const rec = (image: string, revision: string): PackageRecord =>
  buildRecord({ project: 'shop', tags: [`${image}:1`], builtAt: '2026-03-01T00:00:00.000Z', host: 'h', kibokoVersion: '0.1.0', git: { toplevel: '/s', revision, ref: 'main', dirty: false } });

function setup() {
  const engine = new FakeEngine();
  const baseRec = rec('acme/base', 'a'.repeat(40));
  const appRec = { ...rec('acme/app', 'b'.repeat(40)), methods: { validate: '/v' } };
  const image = engine.addImage({
    // the id the fake gives containers created from 'acme/app:1'
    id: 'sha256:acme/app:1',
    tags: ['acme/app:1'],
    labels: { ...encodeLabels({ meta: appRec, ancestry: [baseRec] }), 'kiboko.method.broken': 'a; b', 'org.opencontainers.image.vendor': 'Acme' },
    created: '2026-03-01T00:00:01.000Z',
  });
  return { engine, image, baseRec, appRec };
}

describe('examine', () => {
  it('shows every level of an image, oldest first, its methods and OCI keys', async () => {
    const { engine, image, baseRec, appRec } = setup();
    const r = await examine(engine, 'acme/app:1');
    expect(r).toMatchObject({ kind: 'image', image: { id: image.id, tags: ['acme/app:1'] }, meta: appRec, metadataFile: METADATA_FILE, warnings: [] });
    expect(r.levels).toEqual([
      { depth: 0, self: false, record: baseRec },
      { depth: 1, self: true, record: appRec },
    ]);
    expect(r.methods).toEqual([
      { name: 'broken', command: 'a; b', error: expect.stringMatching(/./) },
      { name: 'validate', command: '/v' },
    ]);
    expect(r.oci).toMatchObject({ vendor: 'Acme', title: 'acme/app', revision: 'b'.repeat(40) });
    expect(r.container).toBeUndefined();
  });

  it('for a container: its image’s metadata, its own method labels and its start times', async () => {
    const { engine, image } = setup();
    const ref = await engine.create({ image: 'acme/app:1', name: 'web-1', labels: { ...image.labels, 'kiboko.method.metrics': '/m' } });
    expect((await engine.inspect(ref.id)).imageId).toBe(image.id);
    await engine.start(ref.id);
    await engine.restart(ref.id, 1);
    const r = await examine(engine, 'web-1');
    expect(r.kind).toBe('container');
    expect(r.levels.map((l) => l.record.image)).toEqual(['acme/base', 'acme/app']);
    expect(r.methods.map((m) => m.name)).toEqual(['broken', 'metrics', 'validate']);
    expect(r.container).toMatchObject({ id: ref.id, name: 'web-1', status: 'running', restartCount: 1 });
    const first = engine.eventLog.find((e) => e.id === ref.id && e.action === 'start')!;
    expect(r.container!.firstStartedAt).toBe(new Date(Number(BigInt(first.timeNano) / 1_000_000n)).toISOString());
  });

  it('leaves the first start unknown when the engine no longer holds the create event', async () => {
    const { engine, image } = setup();
    engine.add({ name: 'old', image: 'acme/app:1', imageId: image.id, startedAt: '2026-03-02T00:00:00.000Z' });
    engine.emitEvent({ action: 'start', id: (await engine.inspect('old')).id });
    const r = await examine(engine, 'old');
    expect(r.container).toMatchObject({ startedAt: '2026-03-02T00:00:00.000Z', firstStartedAt: undefined });
  });

  it('says so for images kiboko did not build and for unknown names', async () => {
    const { engine } = setup();
    engine.addImage({ tags: ['busybox:latest'], labels: { 'kiboko.meta': '{bad' } });
    const r = await examine(engine, 'busybox:latest', { type: 'image' });
    expect(r).toMatchObject({ meta: undefined, levels: [], methods: [], metadataFile: undefined });
    expect(r.warnings).toEqual(['label kiboko.meta is not valid JSON']);
    await expect(examine(engine, 'nothing')).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND', message: "no container or image 'nothing'" });
    await expect(examine(engine, 'acme/app:1', { type: 'container' })).rejects.toMatchObject({ code: 'TARGET_NOT_FOUND' });
  });
});
