import { readFileSync } from 'node:fs';

const ID = /[0-9a-f]{64}/;

/**
 * The id of the container kiboko itself runs in, if any, so that it never selects itself.
 * Docker leaves it in the mount table (`/var/lib/docker/containers/<id>/hostname`, cgroup v1
 * and v2) and, with cgroup v1, in /proc/self/cgroup.
 */
export function ownContainerId(readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | undefined {
  for (const path of ['/proc/self/mountinfo', '/proc/self/cgroup']) {
    let text: string;
    try {
      text = readFile(path);
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (path.endsWith('mountinfo') && !/\/containers\/[0-9a-f]{64}\/(hostname|hosts|resolv\.conf)/.test(line)) continue;
      if (path.endsWith('cgroup') && !/(docker[-/]|\/docker\/)/.test(line)) continue;
      const m = ID.exec(line);
      if (m) return m[0];
    }
  }
  return undefined;
}
