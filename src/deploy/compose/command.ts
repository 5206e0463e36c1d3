/** `image`, `command` and `entrypoint`. */
import type { KibokoError } from '../../common/errors.js';
import { splitShellWords } from '../../shellwords/index.js';
import type { Context } from './context.js';
import { svcDocs } from './problems.js';
import { str } from './scalars.js';
import { show, type Entry, type Node } from './yaml.js';

// The grammar of docker/distribution's reference package: [domain[:port]/]path[:tag][@digest].
const DOMAIN_PART = String.raw`[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?`;
const DOMAIN = String.raw`(?:${DOMAIN_PART}(?:\.${DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::\d+)?`;
const PATH_PART = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[a-z][a-z0-9]*(?:[+._-][a-z][a-z0-9]*)*:[0-9a-fA-F]{32,}`;
const IMAGE_REF = new RegExp(`^(?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*(?::${TAG})?(?:@${DIGEST})?$`);

export function readImage(node: Node, ctx: Context): string | undefined {
  const image = str(node, ctx, 'an image reference like repo/name:tag', svcDocs('image'));
  if (image === undefined) return undefined;
  if (!IMAGE_REF.test(image)) {
    ctx.problems.add(
      node.loc,
      `expected an image reference like registry/repo/name:tag, got ${JSON.stringify(image)}`,
      'repository names are lowercase; a tag has at most 128 of [A-Za-z0-9_.-]',
    );
    return undefined;
  }
  return image;
}

/** A string is split like a shell would (no expansion); a list is taken as is. */
export function readCommand(entry: Entry | undefined, ctx: Context): string[] | undefined {
  if (!entry) return undefined;
  return readCommandNode(entry.value, ctx, svcDocs(entry.key));
}

export function readCommandNode(node: Node, ctx: Context, docs: string): string[] | undefined {
  if (node.kind === 'scalar' && node.value === null) return undefined;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    try {
      return splitShellWords(node.value);
    } catch (err) {
      const e = err as KibokoError;
      ctx.problems.add(node.loc, e.message, e.hint);
      return undefined;
    }
  }
  if (node.kind === 'seq') {
    return node.items.flatMap((item) => {
      const s = str(item, ctx, 'a string', docs, true);
      return s === undefined ? [] : [s];
    });
  }
  ctx.problems.add(node.loc, `expected a command string or a list of strings, got ${show(node)}`, docs);
  return undefined;
}
