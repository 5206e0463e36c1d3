import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { invalidArgument, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { readTar } from '../common/tar.js';
import type { Engine } from '../engine/index.js';
import { buildPackage, type BuildEvent, type BuildRequest, type BuildResult } from './build.js';
import { readGitInfo, runGit } from './metadata.js';

/**
 * The build-container pattern: a builder image (`Dockerfile.build`) whose RUN steps produce the
 * artifacts; kiboko copies them out through the Engine API and then builds the runtime image,
 * whose Dockerfile COPYs them. The artifacts exist once the builder image is built, so its
 * container is only created, never started (nothing runs, and it works for builder images with
 * no shell or no CMD). The container and the builder image are removed whatever happens.
 */

export interface ArtifactSpec {
  /** Absolute path inside the builder. */
  path: string;
  /** Local destination, absolute. */
  local: string;
  /** The destination as the user wrote it (recorded in the metadata). */
  shown: string;
}

/** `/out/app:./dist/app` → the builder path and the local path (relative to `cwd`). */
export function parseArtifactOption(text: string, cwd: string): ArtifactSpec {
  const at = text.indexOf(':');
  const path = at < 0 ? '' : text.slice(0, at);
  const local = at < 0 ? '' : text.slice(at + 1);
  if (!path.startsWith('/') || local === '') {
    throw invalidArgument(`invalid --artifact '${text}': expected /path/in/builder:local/path`, 'e.g. --artifact /out/app:./dist/app');
  }
  if (posix.normalize(path) === '/') throw invalidArgument(`invalid --artifact '${text}': copying the builder's whole filesystem is not supported`, 'name the folder the build writes to, e.g. /out');
  return { path: posix.normalize(path), local: resolve(cwd, local), shown: local };
}

export interface ExtractedArtifact {
  kind: 'file' | 'directory';
  /** Where it was written. */
  target: string;
  bytes: number;
}

const refuse = (what: string, detail: string) =>
  new KibokoError('ACTION_FAILED', `refusing to extract ${what}: ${detail}`, { hint: 'the artifact must stay inside its destination: no absolute or `..` paths, no symlinks pointing outside it' });

/** A path inside the archive's root, as segments; throws on anything that would escape. */
function inside(name: string, what: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw refuse(what, `absolute path '${name}'`);
  const norm = posix.normalize(name.replace(/\/+$/, ''));
  if (norm === '..' || norm.startsWith('../') || norm.split('/').includes('..')) throw refuse(what, `path '${name}' leaves the destination`);
  return norm === '.' ? '' : norm;
}

/**
 * Extracts a `docker cp`-style archive (its single top entry named after the copied path) to
 * `dest`, as `docker cp` does: into `dest/<name>` when `dest` is an existing folder (or ends in
 * `/`), else to `dest` itself. The result replaces what was there (no stale files from an earlier
 * build) and appears at once: it is staged in a temporary folder beside it and renamed into place.
 * Refused: absolute or `..` paths, symlinks that are absolute or lead outside the artifact,
 * hard links to outside it, devices and FIFOs. Set-id bits are dropped.
 */
export async function extractArtifact(tar: Buffer, dest: string, what = dest): Promise<ExtractedArtifact> {
  const entries = await readTar(tar);
  if (entries.length === 0) throw new KibokoError('ACTION_FAILED', `the archive of ${what} is empty`);
  const top = inside(entries[0]!.name, what).split('/')[0]!;
  if (!top) throw refuse(what, 'the archive has no top-level entry');
  const rootEntry = entries.find((e) => inside(e.name, what) === top);
  const kind: ExtractedArtifact['kind'] = rootEntry && rootEntry.type !== 'directory' ? 'file' : 'directory';
  if (rootEntry && kind === 'file' && rootEntry.type !== 'file' && rootEntry.type !== 'contiguous-file') {
    throw refuse(what, rootEntry.type === 'symlink' ? `it is a symlink (to '${rootEntry.linkname}'); name the file it points to` : `it is a ${rootEntry.type}`);
  }
  let target = dest;
  const destIsDir = (() => {
    try {
      return statSync(dest).isDirectory();
    } catch {
      return false;
    }
  })();
  if (dest.endsWith('/') || dest.endsWith(sep) || destIsDir) target = join(dest, top);
  target = resolve(target);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(join(dirname(target), '.kiboko-artifact-'));
  let bytes = 0;
  try {
    const root = join(staging, 'root');
    const dirModes: [string, number][] = [];
    if (kind === 'directory') mkdirSync(root);
    for (const e of entries) {
      const rel = inside(e.name, what);
      const segments = rel.split('/');
      if (segments[0] !== top) throw refuse(what, `entry '${e.name}' is outside '${top}'`);
      const sub = segments.slice(1).join('/');
      if (kind === 'file' && sub) throw refuse(what, `unexpected entry '${e.name}' after a file`);
      const out = sub ? join(root, ...sub.split('/')) : root;
      if (sub) {
        noSymlinkOnTheWay(root, sub.split('/'), what);
        mkdirSync(dirname(out), { recursive: true });
      }
      switch (e.type) {
        case 'directory':
          mkdirSync(out, { recursive: true });
          dirModes.push([out, (e.mode & 0o777) | 0o700]);
          break;
        case 'file':
        case 'contiguous-file':
          writeFileSync(out, e.data, { mode: 0o600 });
          chmodSync(out, e.mode & 0o777);
          if (e.mtime) utimesSync(out, e.mtime, e.mtime);
          bytes += e.data.length;
          break;
        case 'symlink': {
          const link = e.linkname ?? '';
          if (link === '' || isAbsolute(link) || link.startsWith('/')) throw refuse(what, `symlink '${e.name}' points to the absolute path '${link}'`);
          const resolved = posix.normalize(posix.join(posix.dirname(sub), link));
          if (resolved === '..' || resolved.startsWith('../')) throw refuse(what, `symlink '${e.name}' points outside the artifact ('${link}')`);
          symlinkSync(link, out);
          break;
        }
        case 'link': {
          const source = inside(e.linkname ?? '', what).split('/');
          if (source[0] !== top) throw refuse(what, `hard link '${e.name}' points outside the artifact`);
          const from = join(root, ...source.slice(1));
          if (!lstatSync(from).isFile()) throw refuse(what, `hard link '${e.name}' does not point to a file`);
          copyFileSync(from, out);
          bytes += statSync(out).size;
          break;
        }
        default:
          throw refuse(what, `entry '${e.name}' is a ${e.type} (only files, folders and symlinks are copied)`);
      }
    }
    // Chains of relative symlinks can still lead out (`a/b -> ..`, `x -> a/b/..`): check where each one really ends.
    if (kind === 'directory') symlinksStayInside(root, what);
    // Folder modes last, innermost first, so read-only folders were still writable above.
    for (const [dir, mode] of dirModes.reverse()) chmodSync(dir, mode);
    rmSync(target, { recursive: true, force: true });
    renameSync(root, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { kind, target, bytes };
}

/** Refuses an entry whose parent path runs through a symlink (it could write anywhere). */
function noSymlinkOnTheWay(root: string, segments: readonly string[], what: string) {
  let p = root;
  for (const seg of segments.slice(0, -1)) {
    p = join(p, seg);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return; // not there yet: created as a plain folder
    }
    if (st.isSymbolicLink()) throw refuse(what, `an entry is written through the symlink '${relative(root, p)}'`);
  }
}

function symlinksStayInside(root: string, what: string) {
  const realRoot = realpathSync.native(root);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        let real: string | undefined;
        try {
          real = realpathSync.native(p);
        } catch {
          real = undefined; // dangling: its text was checked already
        }
        if (real !== undefined && real !== realRoot && !real.startsWith(`${realRoot}${sep}`)) throw refuse(what, `symlink '${relative(root, p)}' resolves outside the artifact`);
      } else if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
}

export interface BuilderRequest extends BuildRequest {
  /** The builder's Dockerfile: absolute, or relative to the context. */
  builderDockerfile: string;
  artifacts: readonly ArtifactSpec[];
}

export interface BuilderResult extends BuildResult {
  artifacts: (ExtractedArtifact & { path: string })[];
}

/**
 * Builds the builder image, copies the artifacts out of a created (never started) container,
 * removes both, then builds the runtime image from the context with kiboko's metadata.
 */
export async function buildWithBuilder(engine: Engine, req: BuilderRequest): Promise<BuilderResult> {
  if (req.artifacts.length === 0) throw invalidArgument('--builder needs at least one --artifact', 'e.g. --artifact /out/app:./dist/app');
  const contextDir = resolve(req.contextDir);
  const emit = (e: BuildEvent) => req.onEvent?.(e);
  const dockerfileAbs = resolve(contextDir, req.builderDockerfile);
  let text: string;
  try {
    text = readFileSync(dockerfileAbs, 'utf8');
  } catch (cause) {
    throw invalidArgument(`cannot read the builder Dockerfile ${dockerfileAbs}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, 'give its path with --builder, e.g. --builder Dockerfile.build', cause);
  }
  const rel = relative(contextDir, dockerfileAbs);
  const insideContext = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  const runId = randomBytes(6).toString('hex');
  const tag = `kiboko-tmp/builder-${runId}:latest`;
  const labels = { [LABELS.managed]: 'true', [LABELS.role]: 'builder', [LABELS.runId]: runId };
  // Read before the artifacts land in the checkout, so they do not make it look dirty.
  const gitFacts = req.gitFacts !== undefined ? req.gitFacts : ((await readGitInfo(contextDir, req.git ?? runGit)) ?? null);
  const copied: BuilderResult['artifacts'] = [];
  let containerId: string | undefined;
  emit({ type: 'build-started', step: 'builder', tag, dockerfile: dockerfileAbs });
  try {
    await engine.buildImage({
      contextDir,
      ...(insideContext ? { dockerfile: rel.split(sep).join('/') } : { dockerfileContent: text }),
      tag,
      labels,
      buildArgs: req.buildArgs,
      noCache: req.noCache,
      pull: req.pull,
      signal: req.signal,
      onProgress: (line) => emit({ type: 'output', step: 'builder', line }),
    });
    // Created only: the artifacts are in the image's filesystem already.
    const ref = await engine.create({ image: tag, name: `kiboko-builder-${runId}`, labels, cmd: ['/kiboko-builder-is-never-started'] });
    containerId = ref.id;
    for (const a of req.artifacts) {
      req.signal?.throwIfAborted();
      let tar: Buffer;
      try {
        tar = await engine.getArchive(ref.id, a.path);
      } catch (err) {
        if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') {
          throw new KibokoError('ACTION_FAILED', `the builder image has no ${a.path}`, { hint: `make a RUN step in ${basename(dockerfileAbs)} write it`, cause: err });
        }
        throw err;
      }
      const x = await extractArtifact(tar, a.local, `${a.path} → ${a.shown}`);
      copied.push({ ...x, path: a.path });
      emit({ type: 'artifact-copied', path: a.path, local: x.target, bytes: x.bytes });
    }
  } finally {
    if (containerId) await engine.remove(containerId, { force: true, volumes: true }).catch(() => undefined);
    await engine.removeImage(tag, true).catch(() => undefined);
  }
  const shownDockerfile = insideContext ? rel.split(sep).join('/') : dockerfileAbs;
  const result = await buildPackage(engine, {
    ...req,
    contextDir,
    gitFacts,
    buildContainer: {
      dockerfile: shownDockerfile,
      artifacts: req.artifacts.map((a, i) => ({ path: a.path, local: a.shown, bytes: copied[i]?.bytes ?? 0 })),
    },
  });
  return { ...result, artifacts: copied };
}
