import { readFile as readFileCallback, readFileSync } from 'node:fs';

const ID = /[0-9a-f]{64}/;
const SOURCES = ['/proc/self/mountinfo', '/proc/self/cgroup'] as const;

/**
 * The id of the container kiboko itself runs in, if any, so that it never selects itself.
 * Docker leaves it in the mount table (`/var/lib/docker/containers/<id>/hostname`, cgroup v1
 * and v2) and, with cgroup v1, in /proc/self/cgroup.
 */
export function ownContainerId(readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): string | undefined {
  for (const path of SOURCES) {
    let text: string;
    try {
      text = readFile(path);
    } catch {
      continue;
    }
    const id = idIn(path, text);
    if (id) return id;
  }
  return undefined;
}

/**
 * The same, read off the main thread: a host's mount table lists every running container's
 * mounts (~70 KB and ~3 ms with a hundred of them), so target selection reads it while it waits
 * for the engine's container list.
 */
export async function readOwnContainerId(readFile: (path: string) => Promise<string> = readText): Promise<string | undefined> {
  for (const path of SOURCES) {
    const text = await readFile(path).catch(() => undefined);
    const id = text === undefined ? undefined : idIn(path, text);
    if (id) return id;
  }
  return undefined;
}

const readText = (path: string) =>
  new Promise<string>((resolve, reject) => readFileCallback(path, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));

/** The container id that `text` (the content of `path`, one of SOURCES) names, if any. */
function idIn(path: string, text: string): string | undefined {
  // One scan of the mount table (the root of docker's bind mount of /etc/hostname, hosts or
  // resolv.conf; a line's earlier fields are numbers), not a test per line of a host's long one.
  if (path.endsWith('mountinfo')) return /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)\s/.exec(text)?.[1];
  for (const line of text.split('\n')) {
    if (!/(docker[-/]|\/docker\/)/.test(line)) continue;
    const m = ID.exec(line);
    if (m) return m[0];
  }
  return undefined;
}
