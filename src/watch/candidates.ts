import { RE2JS } from 're2js';
import { checkTagPolicy, compareBuildTags, compareSemver, parseBuildTag, parseSemver, type TagPolicy } from '../deploy/index.js';

/** Orders tags a `regex:` policy accepts: semver when both are, else build numbers, else natural order. */
function compareLoose(a: string, b: string): number {
  if (parseSemver(a) && parseSemver(b)) return compareSemver(a, b);
  if (parseBuildTag(a) && parseBuildTag(b)) return compareBuildTags(a, b);
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Pure: the newest tag among `tags` that the service's policy would move to from `current`
 * (undefined when none is newer). `pinned` never moves to another tag: only a new digest of
 * the same tag counts, as in Watchtower.
 */
export function newerTag(policy: TagPolicy, current: string, tags: readonly string[]): string | undefined {
  let pool: string[];
  let compare: (a: string, b: string) => number;
  switch (policy.kind) {
    case 'pinned':
      return undefined;
    case 'follow-branch':
      pool = tags.filter((t) => parseBuildTag(t)?.branch === policy.branch);
      compare = compareBuildTags;
      break;
    case 'semver':
      // Pre-releases are only followed from a pre-release, as most updaters do.
      pool = tags.filter((t) => {
        const v = parseSemver(t);
        return v && (v.pre.length === 0 || (parseSemver(current)?.pre.length ?? 0) > 0);
      });
      compare = compareSemver;
      break;
    case 'regex': {
      const re = RE2JS.compile(policy.pattern);
      pool = tags.filter((t) => re.matches(t));
      compare = compareLoose;
      break;
    }
  }
  const allowed = pool.filter((t) => t !== current && checkTagPolicy(policy, current, t).ok);
  if (!allowed.length) return undefined;
  const best = allowed.sort(compare).at(-1)!;
  // For regex, "newer" needs an order: only a tag that sorts after the running one.
  return compare(best, current) > 0 ? best : undefined;
}
