import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../common/errors.js';
import { connectEngine } from '../engine/index.js';
import { defaultStateDir } from '../journal/index.js';
import { connectionFlags } from './options.js';
import type { DeployCommonOptions } from './deploy-options.js';

/** What the deploy commands read from their flags: the engine and store, the configuration, the project. */

export async function open(o: DeployCommonOptions) {
  const engine = await connectEngine(connectionFlags(o));
  await engine.ready();
  const { DeployStore } = await import('../deploy/index.js');
  const store = new DeployStore(o.stateDir ?? defaultStateDir());
  return { engine, store };
}

export const files = (o: Pick<DeployCommonOptions, 'file'>): string[] => o.file ?? [];

export function engineMode(o: Pick<DeployCommonOptions, 'engine'>): 'auto' | 'docker' | 'swarm' {
  const m = o.engine ?? 'auto';
  if (m !== 'auto' && m !== 'docker' && m !== 'swarm') throw invalidArgument(`invalid --engine '${m}': expected docker, swarm or auto`, 'e.g. --engine swarm');
  return m;
}

/** Loader options from the flags: -p, --env-file, --profile; warnings (unset variables, ignored keys) go to stderr. */
export function loadOptions(o: Pick<DeployCommonOptions, 'project' | 'envFile' | 'profile'>) {
  return {
    projectName: o.project,
    envFiles: o.envFile,
    profiles: o.profile,
    onWarning: (w: { file: string; line: number; message: string }) => process.stderr.write(`warning: ${w.line > 0 ? `${w.file}:${w.line}` : w.file}: ${w.message}\n`),
  };
}

/** The configuration from -f paths, or from a git branch (`--from git+URL#branch`) pinned to its commit. */
export async function loadFromFlags(o: DeployCommonOptions) {
  const d = await import('../deploy/index.js');
  if (o.from) {
    const src = d.parseGitSource(o.from);
    const checkout = await d.checkoutGitSource(src, o.stateDir ?? defaultStateDir());
    const paths = files(o).length ? files(o).map((f) => join(checkout.dir, f)) : [checkout.dir];
    return { loaded: await d.loadConfiguration(paths, { ...loadOptions(o), cwd: checkout.dir }), source: checkout.describe };
  }
  return { loaded: await d.loadConfiguration(files(o), loadOptions(o)), source: files(o).join(',') || process.cwd() };
}

const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

/**
 * The project a project command works on, as compose finds it: from the configuration (-f, or a
 * compose file here), else `-p` alone (`deploy down -p NAME` needs no file).
 */
export async function projectFromFlags(o: DeployCommonOptions): Promise<{ project: string; config?: import('../deploy/index.js').SystemConfig }> {
  const hasFile = files(o).length > 0 || Boolean(o.from) || COMPOSE_FILES.some((f) => existsSync(f)) || Boolean(process.env.COMPOSE_FILE);
  if (!hasFile) {
    if (!o.project) throw invalidArgument('no compose file here and no project named', 'pass -f compose.yaml, or -p NAME');
    return { project: o.project };
  }
  const { loaded } = await loadFromFlags(o);
  return { project: loaded.project, config: loaded };
}
