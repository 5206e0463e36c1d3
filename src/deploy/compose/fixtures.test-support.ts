/** Fixtures for the compose loader's tests: each test writes a project folder under os.tmpdir(). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { KibokoError } from '../../common/errors.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type ServiceSpec, type SystemConfig } from '../model.js';
import { loadCompose, type ComposeProblem } from './index.js';

export const DOCS = 'https://docs.docker.com/reference/compose-file';

// ——— fixtures: each test writes a project folder under os.tmpdir() ——

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (paths relative to the project folder) and returns the folder. */
export function project(files: Record<string, string>, folder = 'shop'): string {
  const base = mkdtempSync(path.join(tmpdir(), 'kiboko-compose-'));
  made.push(base);
  const dir = path.join(base, folder);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Loads compose.yaml (or the given files) from a fresh project, with only `env` as the environment. */
export function load(files: Record<string, string>, env: Record<string, string> = {}, names = ['compose.yaml']): SystemConfig {
  const dir = project(files);
  return loadCompose(names, { cwd: dir, env });
}

export function failure(fn: () => unknown): KibokoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    return err as KibokoError;
  }
  throw new Error('expected a KibokoError, nothing was thrown');
}

export function problemsOf(fn: () => unknown): ComposeProblem[] {
  const e = failure(fn);
  expect(e.code).toBe('INVALID_ARGUMENT');
  return e.details?.errors as ComposeProblem[];
}

/** 1-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture has no line with ${needle}`);
  return i + 1;
}

/** A minimal service spec with compose's defaults, for expectations. */
export function service(name: string, image: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image,
    environment: {},
    ports: [],
    volumes: [],
    networks: ['default'],
    labels: {},
    dependsOn: [],
    restart: 'no',
    replicas: 1,
    update: DEFAULT_UPDATE,
    rollback: DEFAULT_ROLLBACK,
    tagPolicy: { kind: 'pinned' },
    ...extra,
  };
}

export const only = (config: SystemConfig, name: string): ServiceSpec => {
  const s = config.services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
