/** `build:` — what the Engine API's /build can do; BuildKit-session features are refused with a way out. */
import type { BuildSpec } from '../model.js';
import type { Context, Mutable } from './context.js';
import { svcDocs } from './problems.js';
import { bool, bytes, hostPath, mapOf, omitUndefined, str, stringList, stringMap } from './scalars.js';
import { readExtraHosts, readUlimits } from './container.js';
import { isNull, type Entry } from './yaml.js';

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
  const out: Mutable<BuildSpec> = { context: hostPath('.', ctx) };
  for (const e of map.entries.values()) {
    const v = e.value;
    if (isNull(v)) continue;
    switch (e.key) {
      case 'context': {
        const s = str(v, ctx, 'a folder or a git URL', DOCS);
        if (s !== undefined) out.context = context(s);
        break;
      }
      case 'dockerfile':
        out.dockerfile = str(v, ctx, 'a Dockerfile path (relative to the context)', DOCS);
        break;
      case 'dockerfile_inline':
        out.dockerfileInline = str(v, ctx, 'Dockerfile text', DOCS);
        break;
      case 'args':
        out.args = stringMap(v, ctx, 'build args', DOCS);
        break;
      case 'target':
        out.target = str(v, ctx, 'a stage name', DOCS);
        break;
      case 'labels':
        out.labels = stringMap(v, ctx, 'labels', DOCS);
        break;
      case 'cache_from':
        out.cacheFrom = stringList(v, ctx, 'image references', DOCS, false);
        break;
      case 'network':
        out.network = str(v, ctx, 'host, none or a network name', DOCS);
        break;
      case 'shm_size':
        out.shmSizeBytes = bytes(v, ctx, DOCS);
        break;
      case 'extra_hosts':
        out.extraHosts = readExtraHosts(v, ctx, DOCS);
        break;
      case 'platforms':
        out.platforms = stringList(v, ctx, 'platforms like linux/amd64', DOCS, false);
        if ((out.platforms?.length ?? 0) > 1) ctx.problems.add(v.loc, 'building several platforms at once needs buildx', 'keep one platform (the engine builds one per build), or build with docker buildx and set image:');
        break;
      case 'tags':
        out.tags = stringList(v, ctx, 'image references', DOCS, false);
        break;
      case 'no_cache':
        out.noCache = bool(v, ctx, DOCS);
        break;
      case 'pull':
        out.pull = bool(v, ctx, DOCS);
        break;
      case 'ulimits':
        out.ulimits = readUlimits(v, ctx, DOCS);
        break;
      case 'isolation':
        out.isolation = str(v, ctx, 'default', DOCS);
        break;
      case 'privileged':
        if (bool(v, ctx, DOCS)) ctx.problems.add(e.keyLoc, 'privileged builds need buildx entitlements', 'remove it, or build with docker buildx and set image:');
        break;
      default:
        if (e.key.startsWith('x-')) break;
        if (NEEDS_BUILDKIT[e.key]) ctx.problems.add(e.keyLoc, `build.${e.key} cannot be done through the engine's build API`, NEEDS_BUILDKIT[e.key]);
        else ctx.problems.add(e.keyLoc, `unknown build key ${JSON.stringify(e.key)}`, svcDocs('build'));
    }
  }
  if (out.dockerfile !== undefined && out.dockerfileInline !== undefined) ctx.problems.add(map.loc, 'build has both dockerfile and dockerfile_inline', 'keep one of them');
  return omitUndefined(out);
}
