import { existsSync, readFileSync } from 'node:fs';
import { isScalar, parseDocument } from 'yaml';
import { parseImageRef, setTagInComposeFile } from './tags.js';

/** What became of one service's `image:` after a rollback. */
export type Realignment =
  /** The file already names the running image. */
  | { service: string; outcome: 'in-line'; file: string; image: string }
  /** The tag was rewritten in place (set-tag's byte-preserving edit). */
  | { service: string; outcome: 'rewritten'; file: string; before: string; after: string }
  /**
   * Not edited, because doing so could be wrong: `reason` says why; `command` (argv) is the
   * set-tag to run when the user agrees with its effect, absent when set-tag cannot express it.
   */
  | { service: string; outcome: 'manual'; file?: string | undefined; image: string; reason: string; command?: string[] | undefined };

export interface RealignOptions {
  /** false: decide only, edit nothing (every edit becomes `manual` with its command), e.g. for a git checkout. */
  write?: boolean | undefined;
  /** Why nothing is written when `write` is false. */
  readOnlyReason?: string | undefined;
  /** How a file is named in commands (e.g. relative to the working directory). */
  display?: ((file: string) => string) | undefined;
}

/**
 * After a failed update was rolled back (or a `deploy rollback`), brings the compose files back
 * in line with what runs, so that the next plan does not offer the failed image again. For each
 * service, the file that sets its `image:` last (later files override earlier ones) is edited
 * with set-tag's byte-preserving edit — only when that is safe: the image is written literally
 * (not from a `${VARIABLE}`), it is the same repository (set-tag changes tags only), and the
 * running image is named by a tag (not a digest). Otherwise the outcome says why and, where
 * set-tag can do it, which command to run.
 */
export function realignComposeFiles(
  files: readonly string[],
  running: readonly { service: string; image: string; /** The image the loaded configuration names (after interpolation), when known. */ configured?: string | undefined }[],
  options: RealignOptions = {},
): Realignment[] {
  const show = options.display ?? ((f: string) => f);
  const yamlFiles = files.filter((f) => /\.ya?ml$/i.test(f));
  return running.map(({ service, image, configured }): Realignment => {
    const found = findImage(yamlFiles, service);
    if (!found) {
      const where = yamlFiles.length ? `no services.${service}.image in ${yamlFiles.map(show).join(', ')} (set through extends or include?)` : `the configuration is not a compose file (${files.map(show).join(', ')})`;
      return { service, outcome: 'manual', image, reason: `${where}: set it to ${image} there` };
    }
    const { file, value, raw } = found;
    if (value === image || configured === image) return { service, outcome: 'in-line', file, image };
    const { repo, tag } = parseImageRef(image);
    const command = ['kiboko', 'deploy', 'set-tag', '-f', show(file), service, tag];
    if (image.includes('@')) return { service, outcome: 'manual', file, image, reason: `the running image is pinned by digest; set services.${service}.image in ${show(file)} to ${image}` };
    if (raw.includes('$')) {
      return { service, outcome: 'manual', file, image, command, reason: `the image comes from a variable (${raw}): set it so that it gives ${image}, or replace it with a literal tag` };
    }
    if (parseImageRef(value).repo !== repo) {
      return { service, outcome: 'manual', file, image, reason: `the file names another repository (${value}); set-tag changes tags only: set services.${service}.image to ${image}` };
    }
    if (options.write === false) return { service, outcome: 'manual', file, image, command, reason: options.readOnlyReason ?? 'not edited' };
    const r = setTagInComposeFile(file, service, tag);
    return { service, outcome: 'rewritten', file, before: r.before, after: r.after };
  });
}

/** The last file that sets `services.<service>.image`, with its value and its source text. */
function findImage(files: readonly string[], service: string): { file: string; value: string; raw: string } | undefined {
  for (const file of [...files].reverse()) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const doc = parseDocument(text);
    if (doc.errors.length) continue;
    const node = doc.getIn(['services', service, 'image'], true);
    if (isScalar(node) && typeof node.value === 'string' && node.range) return { file, value: node.value, raw: text.slice(node.range[0], node.range[1]) };
  }
  return undefined;
}
