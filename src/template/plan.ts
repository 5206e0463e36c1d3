import { createTwoFilesPatch } from 'diff';
import type { TemplateResource } from './resource.js';

/** A destination file as it is now (on the host or in a container). */
export interface CurrentFile {
  content: Buffer;
  /** Permission bits (0o7777). */
  mode: number;
  uid: number;
  gid: number;
}

/** What a resource needs, decided without touching anything. */
export interface ResourcePlan {
  resource: TemplateResource;
  /** The rendered file. */
  content: Buffer;
  /** True when content, mode or (explicit) owner differ from the current file, or there is none. */
  changed: boolean;
  /** Why it changed: `new file`, `content`, `mode 0644 → 0600`, `owner …`. */
  reasons: string[];
  mode: number;
  /** Owner to set; undefined keeps the current owner (a new file: the writer's). */
  uid: number | undefined;
  gid: number | undefined;
  /** Unified diff, current → rendered (empty when unchanged). */
  diff: string;
  previous: CurrentFile | undefined;
}

const octal = (m: number) => `0${(m & 0o7777).toString(8).padStart(3, '0')}`;

/** `--noop`/`--json` diffs are for people: binary or huge files are summarized instead. */
const DIFF_LIMIT = 1 << 20;

export function unifiedDiff(dest: string, before: Buffer | undefined, after: Buffer): string {
  if ((before?.length ?? 0) > DIFF_LIMIT || after.length > DIFF_LIMIT || before?.includes(0) || after.includes(0)) {
    return `Binary or large file ${dest} differs (${before?.length ?? 0} → ${after.length} bytes)\n`;
  }
  return createTwoFilesPatch(before ? dest : '/dev/null', dest, before?.toString('utf8') ?? '', after.toString('utf8'), before ? 'current' : '', 'rendered');
}

/**
 * Plans one resource from its rendered content and the current file: the mode is the resource's,
 * else the current file's, else 0644 (confd's setFileMode); the owner is the resource's uid/gid,
 * else kept. Changed when confd's IsConfigChanged would say so (content, mode or owner differ).
 */
export function planResource(resource: TemplateResource, rendered: string | Buffer, current: CurrentFile | undefined): ResourcePlan {
  const content = typeof rendered === 'string' ? Buffer.from(rendered, 'utf8') : rendered;
  const mode = resource.mode ?? current?.mode ?? 0o644;
  const reasons: string[] = [];
  if (!current) reasons.push('new file');
  else {
    if (!current.content.equals(content)) reasons.push('content');
    if ((current.mode & 0o7777) !== mode) reasons.push(`mode ${octal(current.mode)} → ${octal(mode)}`);
    if (resource.uid !== undefined && resource.uid !== current.uid) reasons.push(`uid ${current.uid} → ${resource.uid}`);
    if (resource.gid !== undefined && resource.gid !== current.gid) reasons.push(`gid ${current.gid} → ${resource.gid}`);
  }
  const changed = reasons.length > 0;
  const contentChanged = !current || !current.content.equals(content);
  const other = reasons.filter((r) => r !== 'content' && r !== 'new file');
  const diff = !changed ? '' : `${contentChanged ? unifiedDiff(resource.dest, current?.content, content) : ''}${other.length ? `${resource.dest}: ${other.join(', ')}\n` : ''}`;
  return {
    resource,
    content,
    changed,
    reasons,
    mode,
    uid: resource.uid ?? current?.uid,
    gid: resource.gid ?? current?.gid,
    diff,
    previous: current,
  };
}
