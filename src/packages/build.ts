import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidArgument, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { VERSION } from '../common/version.js';
import type { Engine } from '../engine/index.js';
import { appendToStage, parseDockerfile, resolveBaseImage } from './dockerfile.js';
import {
  ancestryOf,
  buildRecord,
  defaultProject,
  detectCi,
  encodeLabels,
  METADATA_FILE,
  metadataFileText,
  methodsFromLabels,
  parseImageTag,
  readGitInfo,
  runGit,
  type GitFacts,
  type GitRunner,
  type MetadataDocument,
  type PackageRecord,
} from './metadata.js';

export type BuildStep = 'image' | 'metadata' | 'builder';

export type BuildEvent =
  | { type: 'build-started'; step: BuildStep; tag: string; dockerfile: string }
  | { type: 'output'; step: BuildStep; line: string }
  | { type: 'warning'; message: string }
  | { type: 'artifact-copied'; path: string; local: string; bytes: number }
  | { type: 'built'; id: string; tags: string[]; record: PackageRecord; ancestors: number };

export interface BuildRequest {
  /** The build context folder. */
  contextDir: string;
  /** Dockerfile: absolute, or relative to the context (default `Dockerfile`); may lie outside the context. */
  dockerfile?: string | undefined;
  /** Names for the image; the first is the main one. */
  tags: readonly string[];
  buildArgs?: Readonly<Record<string, string>> | undefined;
  target?: string | undefined;
  noCache?: boolean | undefined;
  pull?: boolean | undefined;
  /** Extra labels; they may override the OCI keys, not kiboko's own. */
  labels?: Readonly<Record<string, string>> | undefined;
  /** Lifecycle methods (`validate` → `/srv/bin/validate.sh`), added to those the Dockerfile declares. */
  methods?: Readonly<Record<string, string>> | undefined;
  project?: string | undefined;
  cause?: string | undefined;
  version?: string | undefined;
  /** Environment read for CI detection (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  now?: (() => Date) | undefined;
  host?: string | undefined;
  git?: GitRunner | undefined;
  /** Git facts read earlier (null: none); read from the context when absent. */
  gitFacts?: GitFacts | null | undefined;
  /** Recorded when a build container produced the artifacts (set by buildWithBuilder). */
  buildContainer?: PackageRecord['buildContainer'];
  signal?: AbortSignal | undefined;
  onEvent?: ((e: BuildEvent) => void) | undefined;
}

export interface BuildResult {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  document: MetadataDocument;
  /** How the metadata file got into the image. */
  method: 'layer' | 'rebuild';
}

/** Name of the generated file in the context of the ONBUILD fallback build. */
export const CONTEXT_METADATA_NAME = '.kiboko-metadata.json';

interface DockerfileSource {
  text: string;
  /** Path relative to the context, when the file lies inside it. */
  relative: string | undefined;
  shown: string;
}

function readDockerfile(contextDir: string, dockerfile: string | undefined): DockerfileSource {
  const abs = resolve(contextDir, dockerfile ?? 'Dockerfile');
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (cause) {
    throw invalidArgument(`cannot read the Dockerfile ${abs}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, 'give its path with -f, or add a Dockerfile to the build context', cause);
  }
  const rel = relative(contextDir, abs);
  const inside = rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  return { text, relative: inside ? rel.split(sep).join('/') : undefined, shown: abs };
}

function checkContext(dir: string) {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw invalidArgument(`build context '${dir}' is not a folder`, 'give the folder holding the Dockerfile, e.g. kiboko build .');
}

/**
 * Builds an image through the engine and embeds kiboko's metadata.
 *
 * 1. The Dockerfile is built as written under a temporary name. Its labels tell what it inherited
 *    (the base's record and ancestry, declared methods) and whether it has ONBUILD triggers.
 * 2. The record is made and the metadata added: normally by a one-instruction build
 *    `FROM <step 1>` + `COPY metadata.json /.kiboko/metadata.json` with the labels (no shell
 *    needed, so `FROM scratch` images work). An image with ONBUILD triggers would fire them in
 *    that child, so it is instead rebuilt from the same Dockerfile (every step cached) with the
 *    COPY added to the end of the built stage.
 * The temporary name is removed in every case (the layers stay, as the final image's parent).
 */
export async function buildPackage(engine: Engine, req: BuildRequest): Promise<BuildResult> {
  const contextDir = resolve(req.contextDir);
  checkContext(contextDir);
  if (req.tags.length === 0) throw invalidArgument('no tag given', 'give one with -t name:tag (repeatable; the first is the main tag)');
  const tags = [
    ...new Set(
      req.tags.map((t) => {
        const p = parseImageTag(t);
        return `${p.repo}:${p.tag}`;
      }),
    ),
  ];
  const emit = (e: BuildEvent) => req.onEvent?.(e);
  const dockerfile = readDockerfile(contextDir, req.dockerfile);
  const parsed = parseDockerfile(dockerfile.text);
  const base = resolveBaseImage(parsed, { target: req.target, buildArgs: req.buildArgs });
  if (base.unresolved) emit({ type: 'warning', message: `cannot resolve the FROM line '${base.stage.from}': the base image is not recorded` });

  const env = req.env ?? process.env;
  const git = req.gitFacts !== undefined ? (req.gitFacts ?? undefined) : await readGitInfo(contextDir, req.git ?? runGit);
  const ci = detectCi(env);
  if (!git && !ci?.revision) emit({ type: 'warning', message: `${contextDir} is not in a git checkout (or git is missing): no revision is recorded` });

  const runId = randomBytes(6).toString('hex');
  const probeTag = `kiboko-tmp/build-${runId}:probe`;
  const work = mkdtempSync(join(tmpdir(), 'kiboko-build-'));
  const common = { contextDir, buildArgs: req.buildArgs, target: req.target, signal: req.signal };
  const source = dockerfile.relative !== undefined ? { dockerfile: dockerfile.relative } : { dockerfileContent: dockerfile.text };
  try {
    emit({ type: 'build-started', step: 'image', tag: tags[0]!, dockerfile: dockerfile.shown });
    await engine.buildImage({
      ...common,
      ...source,
      tag: probeTag,
      noCache: req.noCache,
      pull: req.pull,
      // The temporary name is kiboko's business, not the user's.
      onProgress: (line) => (line.includes(probeTag) ? undefined : emit({ type: 'output', step: 'image', line })),
    });
    const probe = await engine.inspectImage(probeTag);
    const { ancestry, warnings } = ancestryOf(probe.labels);
    for (const w of warnings) emit({ type: 'warning', message: `base image metadata: ${w}` });
    let baseId: string | undefined;
    if (base.name) baseId = await engine.inspectImage(base.name).then((i) => i.id, () => undefined);
    const builtAt = (req.now ?? (() => new Date()))().toISOString();
    const record = buildRecord({
      project: req.project ?? defaultProject(contextDir, git),
      tags,
      builtAt,
      host: req.host ?? hostname(),
      kibokoVersion: VERSION,
      cause: req.cause,
      version: req.version,
      git,
      ci,
      base: base.name ? { name: base.name, id: baseId } : undefined,
      methods: { ...methodsFromLabels(probe.labels), ...methodsFromLabels(req.labels ?? {}), ...(req.methods ?? {}) },
      buildContainer: req.buildContainer,
    });
    const document: MetadataDocument = { meta: record, ancestry };
    const labels = encodeLabels(document, withoutKibokoKeys(req.labels ?? {}, emit));
    const fileText = metadataFileText(document);

    emit({ type: 'build-started', step: 'metadata', tag: tags[0]!, dockerfile: probe.onBuild.length ? dockerfile.shown : '(generated)' });
    const onProgress = (line: string) => emit({ type: 'output', step: 'metadata', line });
    let method: BuildResult['method'];
    if (probe.onBuild.length === 0) {
      method = 'layer';
      writeFileSync(join(work, 'metadata.json'), fileText);
      writeFileSync(join(work, 'Dockerfile'), `FROM ${probeTag}\nCOPY metadata.json ${METADATA_FILE}\n`);
      await engine.buildImage({ contextDir: work, tag: tags[0]!, extraTags: tags.slice(1), labels, signal: req.signal, onProgress });
    } else {
      method = 'rebuild';
      emit({ type: 'warning', message: `the image declares ONBUILD triggers; the metadata is added by building the Dockerfile again (cached) with ${CONTEXT_METADATA_NAME} in its context` });
      await engine.buildImage({
        ...common,
        dockerfileContent: appendToStage(dockerfile.text, base.stage, [`COPY ${CONTEXT_METADATA_NAME} ${METADATA_FILE}`]),
        contextFiles: { [CONTEXT_METADATA_NAME]: fileText },
        tag: tags[0]!,
        extraTags: tags.slice(1),
        labels,
        onProgress,
      });
    }
    const final = await engine.inspectImage(tags[0]!);
    if (final.labels[LABELS.packageMeta] !== labels[LABELS.packageMeta]) {
      throw new KibokoError('ACTION_FAILED', `build ${tags[0]}: the built image does not carry the metadata labels kiboko set`, {
        hint: 'another build may have re-tagged the image at the same time; build again',
      });
    }
    emit({ type: 'built', id: final.id, tags, record, ancestors: ancestry.length });
    return { id: final.id, tags, labels, document, method };
  } finally {
    await engine.removeImage(probeTag).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** kiboko's own keys cannot be set with --label (they would break the chain). */
function withoutKibokoKeys(labels: Readonly<Record<string, string>>, emit: (e: BuildEvent) => void): Record<string, string> {
  const own = new Set<string>([LABELS.packageMeta, LABELS.packageAncestry, LABELS.packageMetaFile]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (own.has(k)) emit({ type: 'warning', message: `label ${k} is set by kiboko; the given value is ignored` });
    else out[k] = v;
  }
  return out;
}
