import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imagesAndContext } from './packages-test.js';

const root = mkdtempSync(join(tmpdir(), 'kiboko-test-args-'));
mkdirSync(join(root, 'app'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('kiboko test IMAGE [PATH] (docker-test’s arguments)', () => {
  it('builds from the current directory by default', () => {
    expect(imagesAndContext(['app:1'], undefined, root)).toEqual({ images: ['app:1'], contextDir: root });
  });

  it('takes a last argument naming a folder as the build context', () => {
    expect(imagesAndContext(['app:1', 'app'], undefined, root)).toEqual({ images: ['app:1'], contextDir: join(root, 'app') });
    expect(imagesAndContext(['app:1', './app/'], undefined, root)).toEqual({ images: ['app:1'], contextDir: join(root, 'app') });
    expect(imagesAndContext(['a:1', 'b:2', join(root, 'app')], undefined, '/')).toEqual({ images: ['a:1', 'b:2'], contextDir: join(root, 'app') });
  });

  it('a last argument that is no folder is an image; a lone folder name is an image too (IMAGE comes first)', () => {
    expect(imagesAndContext(['a:1', 'b:2'], undefined, root)).toEqual({ images: ['a:1', 'b:2'], contextDir: root });
    expect(imagesAndContext(['app'], undefined, root)).toEqual({ images: ['app'], contextDir: root });
  });

  it('--context stays as an alias; both at once is an error', () => {
    expect(imagesAndContext(['app:1'], 'app', root)).toEqual({ images: ['app:1'], contextDir: join(root, 'app') });
    expect(() => imagesAndContext(['app:1', 'app'], 'app', root)).toThrow(/the build context is given twice/);
  });
});
