import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Clock } from '../common/clock.js';
import { asKibokoError, errorSummary, KibokoError } from '../common/errors.js';
import { deployProject, loadConfiguration, parseImageRef, setTagInComposeFile, type DeployStore, type ServiceSpec, type SystemConfig } from '../deploy/index.js';
import type { Engine } from '../engine/index.js';
import type { WatchItem } from './types.js';

export interface ServiceUpdate {
  service: ServiceSpec;
  item: WatchItem;
  /** A newer tag to write in the compose file; undefined for a new digest of the same tag. */
  tag?: string | undefined;
}

interface TagEdit {
  file: string;
  service: string;
  before: string;
  after: string;
}

/**
 * Updates services of one deploy project: every new image is pulled first (a failed pull
 * changes nothing), then the compose file gets the new tags (bytes kept) and one deploy applies
 * them — health-gated, per update_config, rolled back on failure, recorded with trigger
 * `registry`. A service that did not come out `ok` gets its previous tag back in the file. A new
 * digest of the same tag is deployed as `repo@digest`, so the revision says what runs.
 */
export async function updateProject(
  config: SystemConfig,
  updates: readonly ServiceUpdate[],
  deps: { engine: Engine; store?: DeployStore | undefined; pull: (image: string) => Promise<unknown>; clock: Clock; signal?: AbortSignal | undefined; healthTimeoutMs?: number | undefined; warn: (m: string) => void },
): Promise<WatchItem[]> {
  const out = new Map<string, WatchItem>();
  const fail = (u: ServiceUpdate, err: unknown) => {
    const e = asKibokoError(err);
    out.set(u.service.name, { ...u.item, status: 'failed', reason: e.message, error: errorSummary(e) });
  };
  if (!deps.store) {
    for (const u of updates) fail(u, new KibokoError('INVALID_ARGUMENT', 'no deploy history store: cannot update deploy services'));
    return [...out.values()];
  }
  const ready: ServiceUpdate[] = [];
  for (const u of updates) {
    try {
      await deps.pull(u.item.newImage!);
      ready.push(u);
    } catch (err) {
      fail(u, err);
    }
  }
  if (ready.length === 0) return updates.map((u) => out.get(u.service.name)!);
  const files = config.sources.filter((f) => /\.ya?ml$/i.test(f)).reverse(); // the last file that sets the image wins, as in compose
  const edits: TagEdit[] = [];
  try {
    for (const u of ready) {
      if (!u.tag) continue;
      let done = false;
      for (const file of files) {
        try {
          const r = setTagInComposeFile(file, u.service.name, u.tag);
          edits.push({ file, service: u.service.name, before: r.before, after: r.after });
          done = true;
          break;
        } catch (err) {
          if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) throw err;
        }
      }
      if (!done) throw new KibokoError('TARGET_NOT_FOUND', `no compose file of project ${config.project} sets services.${u.service.name}.image`, { hint: 'give the service an image: line' });
    }
    const loaded = await loadConfiguration(config.sources.length ? [...config.sources] : [], { projectName: config.project });
    const digests = new Map(ready.filter((u) => !u.tag).map((u) => [u.service.name, u.item.newImage!]));
    const next = { ...loaded, services: loaded.services.map((s) => (digests.has(s.name) ? { ...s, image: digests.get(s.name)! } : s)) };
    const names = ready.map((u) => `${u.service.name} ${parseImageRef(u.service.image).tag} → ${u.tag ?? u.item.digest?.slice(0, 19)}`).join(', ');
    const run = await deployProject(deps.engine, deps.store, next, {
      trigger: 'registry',
      source: `kiboko watch: ${names}`,
      clock: deps.clock,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.healthTimeoutMs ? { healthTimeoutMs: deps.healthTimeoutMs } : {}),
    });
    for (const u of ready) {
      const r = run.result.services.find((s) => s.service === u.service.name);
      const outcome = r?.outcome ?? (run.result.outcome === 'ok' ? 'ok' : 'failed');
      if (outcome === 'ok' || outcome === 'unchanged') out.set(u.service.name, { ...u.item, status: 'updated', revision: run.revision });
      else {
        restore(edits.filter((e) => e.service === u.service.name), deps.warn);
        out.set(u.service.name, { ...u.item, status: outcome === 'rolled-back' ? 'rolled-back' : 'failed', revision: run.revision, reason: r?.error ?? `deploy ${outcome}` });
      }
    }
  } catch (err) {
    restore(edits, deps.warn);
    for (const u of ready) if (!out.has(u.service.name)) fail(u, err);
  }
  return updates.map((u) => out.get(u.service.name)!);
}

/** Gives the compose file its previous tag back, unless someone edited the line since. */
function restore(edits: readonly TagEdit[], warn: (m: string) => void): void {
  for (const e of [...edits].reverse()) {
    try {
      const now = parseDocument(readFileSync(e.file, 'utf8')).getIn(['services', e.service, 'image']);
      if (now !== e.after) continue;
      setTagInComposeFile(e.file, e.service, parseImageRef(e.before).tag);
    } catch (err) {
      warn(`could not restore ${e.service}'s tag in ${e.file}: ${asKibokoError(err).message}`);
    }
  }
}
