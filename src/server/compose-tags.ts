import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { asKibokoError, KibokoError } from '../common/errors.js';
import { parseImageRef, setTagInComposeFile } from '../deploy/index.js';
import type { DeployJob } from './deploy-jobs.js';

/**
 * Writes each change's tag into the compose file that sets the service's image (the last of
 * `files` that does, as in compose), recording the file and the image before and after.
 */
export function writeHookTags(job: DeployJob, files: readonly string[], project: string): void {
  for (const ch of job.changes) {
    for (const file of files) {
      try {
        const r = setTagInComposeFile(file, ch.service, ch.tag);
        Object.assign(ch, { from: r.before, to: r.after, file });
        break;
      } catch (err) {
        if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) throw err;
      }
    }
    if (!ch.file) throw new KibokoError('TARGET_NOT_FOUND', `no compose file of project ${project} sets services.${ch.service}.image`, { hint: 'give the service an image: line' });
  }
}

/** A failed deploy gives the compose file its previous tags back, so the file says what runs. */
export function restoreTags(job: DeployJob): void {
  for (const ch of [...job.changes].reverse()) {
    if (!ch.file || !ch.from || ch.from === ch.to) continue;
    try {
      // Only our own change is undone: a file edited since keeps the edit.
      const now = parseDocument(readFileSync(ch.file, 'utf8')).getIn(['services', ch.service, 'image']);
      if (now !== ch.to) continue;
      setTagInComposeFile(ch.file, ch.service, parseImageRef(ch.from).tag);
      ch.restored = true;
    } catch (err) {
      job.events.push({ type: 'warning', at: new Date().toISOString(), message: `could not restore ${ch.service}'s tag in ${ch.file}: ${asKibokoError(err).message}` });
    }
  }
}
