import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KibokoError, invalidArgument } from '../common/errors.js';

export interface GitSource {
  url: string;
  branch: string;
  /** Optional folder or file inside the repository holding the configuration. */
  path?: string | undefined;
}

/** Parses `git+URL#branch[:path]` (e.g. `git+https://git.example/ops/system.git#main:prod`). */
export function parseGitSource(spec: string): GitSource {
  const m = /^git\+(.+?)(?:#([^:#]+)(?::(.+))?)?$/.exec(spec.trim());
  if (!m || !m[1]) throw invalidArgument(`invalid --from '${spec}'`, 'use git+URL#branch, e.g. git+https://git.example/ops/system.git#main (or git+file:///srv/system.git#main:prod)');
  const url = m[1];
  if (url.startsWith('-')) throw invalidArgument(`invalid --from '${spec}': the URL may not start with '-'`, 'give a repository URL');
  return { url, branch: m[2] ?? 'main', path: m[3] };
}

function git(args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(
          new KibokoError('ACTION_FAILED', missing ? 'git is not installed' : `git ${args[0]} failed: ${String(stderr).trim() || err.message}`, {
            hint: missing ? 'install git (apt-get install git)' : 'check the repository URL, the branch and your access to it',
          }),
        );
      } else resolve(String(stdout).trim());
    });
  });
}

/**
 * Fetches the branch into a cache under the state directory and checks out its tip: the
 * configuration is read from there and the revision records the exact commit.
 */
export async function checkoutGitSource(src: GitSource, stateDir: string): Promise<{ dir: string; commit: string; describe: string }> {
  const cache = join(stateDir, 'sources', createHash('sha256').update(src.url).digest('hex').slice(0, 16));
  mkdirSync(join(stateDir, 'sources'), { recursive: true, mode: 0o700 });
  if (!existsSync(join(cache, '.git'))) {
    await git(['init', '--quiet', cache]);
    await git(['remote', 'add', 'origin', '--', src.url], cache);
  } else {
    await git(['remote', 'set-url', 'origin', '--', src.url], cache);
  }
  await git(['fetch', '--quiet', '--depth', '1', 'origin', '--', `refs/heads/${src.branch}`], cache);
  await git(['checkout', '--quiet', '--force', '--detach', 'FETCH_HEAD'], cache);
  await git(['clean', '--quiet', '-fdx'], cache);
  const commit = await git(['rev-parse', 'HEAD'], cache);
  return { dir: src.path ? join(cache, src.path) : cache, commit, describe: `git+${src.url}#${src.branch}@${commit}` };
}
