import { KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import type { ContainerDetails, Engine, ImageDetails } from '../engine/index.js';
import { parseMethodCommand } from '../methods/index.js';
import { decodeMetadata, type PackageRecord } from './metadata.js';
import { compareNames } from '../common/collate.js';

/** One level of an image's history as kiboko recorded it: ancestors first, the image itself last. */
export interface ExaminedLevel {
  /** 0 for the oldest kiboko-built ancestor. */
  depth: number;
  /** True for the image's own record. */
  self: boolean;
  record: PackageRecord;
}

export interface ExaminedMethod {
  name: string;
  command: string;
  /** Why `kiboko lifecycle` could not run it, if it could not. */
  error?: string | undefined;
}

export interface ExaminedContainer {
  id: string;
  name: string;
  status: string;
  /** When the container was created (ISO). */
  created: string;
  /** Its most recent start (the engine keeps no earlier ones). */
  startedAt: string | undefined;
  /**
   * Its first start, from the engine's event log when that still holds the container's `create`
   * and first `start` events (Docker keeps a short in-memory buffer); undefined otherwise.
   */
  firstStartedAt: string | undefined;
  /** Restarts by the restart policy (manual restarts are not counted by the engine). */
  restartCount: number;
}

export interface ExamineResult {
  kind: 'image' | 'container';
  /** What was asked for. */
  ref: string;
  image: { id: string; tags: readonly string[]; created: string };
  container?: ExaminedContainer | undefined;
  /** The image's own record (undefined when kiboko did not build it). */
  meta: PackageRecord | undefined;
  /** Every recorded level, oldest first, the image itself last. */
  levels: ExaminedLevel[];
  methods: ExaminedMethod[];
  /** `org.opencontainers.image.*` values (keys without the prefix). */
  oci: Record<string, string>;
  /** Path of the in-image metadata file, when the image has one. */
  metadataFile: string | undefined;
  warnings: string[];
}

export interface ExamineOptions {
  /** Look only at containers or only at images (default: a container first, then an image). */
  type?: 'container' | 'image' | undefined;
  /** Look up the first start in the engine's event log (default true for containers). */
  firstStart?: boolean | undefined;
  /** How long to wait for the event log (default 2 s). */
  eventsTimeoutMs?: number | undefined;
  now?: (() => number) | undefined;
}

const notFound = (err: unknown) => err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND';

/** What kiboko knows about an image or a container's image: every level's metadata and the declared methods. */
export async function examine(engine: Engine, ref: string, options: ExamineOptions = {}): Promise<ExamineResult> {
  let container: ContainerDetails | undefined;
  if (options.type !== 'image') {
    container = await engine.inspect(ref).catch((err: unknown) => {
      if (notFound(err) && options.type !== 'container') return undefined;
      throw err;
    });
  }
  let image: ImageDetails;
  try {
    image = await engine.inspectImage(container ? container.imageId : ref);
  } catch (err) {
    if (!notFound(err)) throw err;
    const what = options.type === 'image' ? 'image' : container ? 'image of the container' : 'container or image';
    throw new KibokoError('TARGET_NOT_FOUND', `no ${what} '${ref}'`, { hint: 'check the name with `docker ps -a` or `docker images`', cause: err });
  }
  const decoded = decodeMetadata(image.labels);
  const levels: ExaminedLevel[] = decoded.ancestry.map((record, depth) => ({ depth, self: false, record }));
  if (decoded.meta) levels.push({ depth: levels.length, self: true, record: decoded.meta });
  // A container's own labels can add or override methods; its image's are the default.
  const methodLabels = container ? container.labels : image.labels;
  const methods: ExaminedMethod[] = Object.entries(methodLabels)
    .filter(([k, v]) => k.startsWith(LABELS.methodPrefix) && k.length > LABELS.methodPrefix.length && v.trim() !== '')
    .map(([k, command]) => {
      const name = k.slice(LABELS.methodPrefix.length);
      try {
        parseMethodCommand(command);
        return { name, command };
      } catch (err) {
        return { name, command, error: (err as Error).message };
      }
    })
    .sort((a, b) => compareNames(a.name, b.name));
  return {
    kind: container ? 'container' : 'image',
    ref,
    image: { id: image.id, tags: image.tags, created: image.created },
    container: container ? await describeContainer(engine, container, options) : undefined,
    meta: decoded.meta,
    levels,
    methods,
    oci: decoded.oci,
    metadataFile: decoded.meta ? (image.labels[LABELS.packageMetaFile] || undefined) : undefined,
    warnings: decoded.warnings,
  };
}

async function describeContainer(engine: Engine, c: ContainerDetails, options: ExamineOptions): Promise<ExaminedContainer> {
  const started = c.startedAt && !c.startedAt.startsWith('0001-') ? c.startedAt : undefined;
  let firstStartedAt: string | undefined;
  if (started && options.firstStart !== false) firstStartedAt = await firstStart(engine, c, options);
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    created: new Date(c.created * 1000).toISOString(),
    startedAt: started,
    firstStartedAt,
    restartCount: c.restartCount,
  };
}

/**
 * The container's first `start` event, when the engine still holds its `create` event too (only
 * then is the earliest start it holds the first one).
 */
async function firstStart(engine: Engine, c: ContainerDetails, options: ExamineOptions): Promise<string | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.eventsTimeoutMs ?? 2000);
  try {
    const now = (options.now ?? Date.now)() / 1000;
    let created = false;
    for await (const e of engine.events({
      since: Math.max(0, c.created - 1),
      // A second past now: \`now\` has millisecond precision, the engine's event times nanoseconds,
      // so a start in the current millisecond would otherwise fall after \`until\`.
      until: now + 1,
      filters: { type: ['container'], container: [c.id], event: ['create', 'start'] },
      signal: controller.signal,
    })) {
      if (e.id !== c.id) continue;
      if (e.action === 'create') created = true;
      else if (e.action === 'start') {
        if (!created) return undefined;
        const ns = BigInt(e.timeNano);
        return new Date(Number(ns / 1_000_000n)).toISOString();
      }
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
