import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar } from '../../common/tar.js';
import { BUSYBOX_IMAGE } from '../../images/index.js';
import { engineContract } from '../contract.js';
import { connectEngine } from '../index.js';
import { compareVersions, DockerEngine } from './adapter.js';

engineContract('DockerEngine (real engine)', async () => ({
  engine: await connectEngine(),
  image: BUSYBOX_IMAGE,
  label: ['kiboko.test', 'contract-docker'],
}));

describe('DockerEngine specifics', () => {
  it('negotiates down to the engine’s API version and speaks it', async () => {
    const engine = await connectEngine();
    const info = await engine.info();
    expect(compareVersions(info.negotiatedApiVersion, info.apiVersion)).toBeLessThanOrEqual(0);
    expect(compareVersions(info.negotiatedApiVersion, '1.47')).toBeLessThanOrEqual(0);
    // A pinned older version still works against this engine (old-client compatibility).
    const old = new DockerEngine({ kind: 'unix', endpoint: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' }, { apiVersion: '1.30' });
    expect(Array.isArray(await old.list())).toBe(true);
  });

  it('runs exec with exit code and separated output', async () => {
    const engine = await connectEngine();
    const ref = await engine.create({ image: BUSYBOX_IMAGE, name: `kiboko-exec-${Date.now()}`, cmd: ['sleep', '3600'], labels: { 'kiboko.test': 'adapter' } });
    try {
      await engine.start(ref.id);
      const r = await engine.exec(ref.id, { cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
      expect(r).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    } finally {
      await engine.remove(ref.id, { force: true });
    }
  });

  it('builds from generated Dockerfile text with .dockerignore honoured, labels, build args and extra tags', async () => {
    const engine = await connectEngine();
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-build-'));
    const tag = `kiboko-adapter-build:${Date.now().toString(36)}`;
    try {
      writeFileSync(join(dir, 'kept.txt'), 'kept\n');
      writeFileSync(join(dir, 'secret.txt'), 'ignored\n');
      writeFileSync(join(dir, '.dockerignore'), 'secret.txt\n');
      const id = await engine.buildImage({
        contextDir: dir,
        tag,
        extraTags: [`${tag}-extra`],
        dockerfileContent: 'FROM scratch\nARG WHO\nLABEL who=$WHO\nCOPY . /ctx/\n',
        buildArgs: { WHO: 'kiboko' },
        labels: { 'kiboko.test': 'adapter-build' },
      });
      const img = await engine.inspectImage(tag);
      expect(img.id).toBe(id);
      expect(img.tags).toEqual(expect.arrayContaining([tag, `${tag}-extra`]));
      expect(img.labels).toMatchObject({ who: 'kiboko', 'kiboko.test': 'adapter-build' });
      const ref = await engine.create({ image: tag, cmd: ['none'], labels: { 'kiboko.test': 'adapter' } });
      try {
        const names = (await readTar(await engine.getArchive(ref.id, '/ctx'))).map((e) => e.name);
        // Like `docker build -f -`: the generated Dockerfile and .dockerignore are not copied.
        expect(names.sort()).toEqual(['ctx/', 'ctx/kept.txt']);
      } finally {
        await engine.remove(ref.id, { force: true });
      }
    } finally {
      await engine.removeImage(`${tag}-extra`).catch(() => undefined);
      await engine.removeImage(tag, true).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares API versions numerically', () => {
    expect(compareVersions('1.9', '1.41')).toBeLessThan(0);
    expect(compareVersions('1.41', '1.41')).toBe(0);
    expect(compareVersions('1.47', '1.41')).toBeGreaterThan(0);
  });
});
