/** `build:` — what the Engine API's /build can do; BuildKit-session features are refused with a way out. */
import type { BuildSpec } from '../model.js';
import type { Context, Mutable } from './context.js';
import { svcDocs } from './problems.js';
import { boolKey, listKey, mapKey, textKey, valueKey, type KeyReader } from './key-readers.js';
import { bool, bytes, hostPath, mapOf, omitUndefined, str, stringList } from './scalars.js';
import { readExtraHosts, readUlimits } from './container.js';
import { isNull, type Entry } from './yaml.js';
import { own } from '../../common/own.js';

const DOCS = `see https://docs.docker.com/reference/compose-file/build/`;
const isUrl = (s: string) => /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i.test(s);

const NEEDS_BUILDKIT: Record<string, string> = {
  secrets: 'build secrets need a BuildKit session; pass the value as a build arg for non-secret data, or build with docker buildx and set image:',
  ssh: 'SSH forwarding needs a BuildKit session; build with docker buildx and set image:',
  additional_contexts: 'additional contexts need BuildKit; copy the files into the context, or build with docker buildx and set image:',
  cache_to: 'exporting cache needs buildx; remove cache_to (cache_from works)',
  entitlements: 'entitlements need buildx; remove it',
  provenance: 'attestations need buildx; remove it',
  sbom: 'attestations need buildx; remove it',
};

type Build = Mutable<BuildSpec>;

/** Every `build:` key the engine's build API honours, by compose name (context is read apart). */
const BUILD_KEYS: Record<string, KeyReader<Build>> = {
  dockerfile: textKey('dockerfile', 'a Dockerfile path (relative to the context)'),
  dockerfile_inline: textKey('dockerfileInline', 'Dockerfile text'),
  args: mapKey('args', 'build args'),
  target: textKey('target', 'a stage name'),
  labels: mapKey('labels', 'labels'),
  cache_from: listKey('cacheFrom', 'image references', false),
  network: textKey('network', 'host, none or a network name'),
  shm_size: valueKey('shmSizeBytes', (v, ctx, docs) => bytes(v, ctx, docs)),
  extra_hosts: valueKey('extraHosts', readExtraHosts),
  platforms: (v, out, ctx, docs) => {
    out.platforms = stringList(v, ctx, 'platforms like linux/amd64', docs, false);
    if ((out.platforms?.length ?? 0) > 1) ctx.problems.add(v.loc, 'building several platforms at once needs buildx', 'keep one platform (the engine builds one per build), or build with docker buildx and set image:');
  },
  tags: listKey('tags', 'image references', false),
  no_cache: boolKey('noCache'),
  pull: boolKey('pull'),
  ulimits: valueKey('ulimits', readUlimits),
  isolation: textKey('isolation', 'default'),
  privileged: (v, _out, ctx, docs, e) => {
    if (bool(v, ctx, docs)) ctx.problems.add(e.keyLoc, 'privileged builds need buildx entitlements', 'remove it, or build with docker buildx and set image:');
  },
};

export function readBuild(entry: Entry | undefined, ctx: Context): BuildSpec | undefined {
  if (!entry || isNull(entry.value)) return undefined;
  const node = entry.value;
  const context = (s: string) => (isUrl(s) ? s : hostPath(s, ctx));
  if (node.kind === 'scalar') {
    const s = str(node, ctx, 'a context folder or a mapping', DOCS);
    return s === undefined ? undefined : { context: context(s) };
  }
  const map = mapOf(node, ctx, 'a context folder or a mapping', DOCS);
  if (!map) return undefined;
  const out: Build = { context: hostPath('.', ctx) };
  for (const e of map.entries.values()) {
    const v = e.value;
    if (isNull(v)) continue;
    const read = own(BUILD_KEYS, e.key);
    if (read) read(v, out, ctx, DOCS, e);
    else if (e.key === 'context') {
      const s = str(v, ctx, 'a folder or a git URL', DOCS);
      if (s !== undefined) out.context = context(s);
    } else if (e.key.startsWith('x-')) continue;
    else if (own(NEEDS_BUILDKIT, e.key)) ctx.problems.add(e.keyLoc, `build.${e.key} cannot be done through the engine's build API`, own(NEEDS_BUILDKIT, e.key));
    else ctx.problems.add(e.keyLoc, `unknown build key ${JSON.stringify(e.key)}`, svcDocs('build'));
  }
  if (out.dockerfile !== undefined && out.dockerfileInline !== undefined) ctx.problems.add(map.loc, 'build has both dockerfile and dockerfile_inline', 'keep one of them');
  return omitUndefined(out);
}
