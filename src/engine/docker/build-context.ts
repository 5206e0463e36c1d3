import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import tarStream from 'tar-stream';

export function listContextFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out;
}

/**
 * The build context as a tar stream, `.dockerignore` honoured (the same filter dockerode uses),
 * plus extra in-memory files (e.g. a generated Dockerfile).
 */
// CommonJS package whose typings say `export default`: loaded through require for a stable shape,
// and only when a build context is packed: the CLI loads it from node_modules, outside the
// code-cached bundle, so at module load it cost every command (`chaos kill` included) ~3 ms.
type DockerIgnoreFactory = typeof import('@balena/dockerignore').default;
let dockerIgnore: DockerIgnoreFactory | undefined;
const DockerIgnore: DockerIgnoreFactory = (options) => {
  dockerIgnore ??= createRequire(import.meta.url)('@balena/dockerignore') as DockerIgnoreFactory;
  return dockerIgnore(options);
};

export async function packContext(dir: string, extra: Readonly<Record<string, string>>, hidden: readonly string[] = Object.keys(extra)): Promise<NodeJS.ReadableStream> {
  let files = listContextFiles(dir);
  let ignoreText = '';
  try {
    ignoreText = readFileSync(join(dir, '.dockerignore'), 'utf8');
    files = files.filter(DockerIgnore({ ignorecase: false }).add(ignoreText).createFilter());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pack = tarStream.pack();
  // As `docker build -f -` does: the generated Dockerfile is listed in the sent .dockerignore.
  // The classic builder drops the Dockerfile and .dockerignore named there from what `COPY .`
  // sees (other files are filtered here, client side, before sending).
  const sentIgnore = `${ignoreText}${ignoreText && !ignoreText.endsWith('\n') ? '\n' : ''}.dockerignore\n${hidden.join('\n')}\n`;
  pack.entry({ name: '.dockerignore', mode: 0o644 }, sentIgnore);
  for (const rel of files) {
    if (rel === '.dockerignore') continue;
    const full = join(dir, rel);
    const st = lstatSync(full);
    const name = rel.split(/[\\/]/).join('/');
    if (st.isSymbolicLink()) pack.entry({ name, type: 'symlink', linkname: readlinkSync(full), mode: st.mode & 0o7777, mtime: st.mtime });
    else pack.entry({ name, mode: st.mode & 0o7777, mtime: st.mtime }, readFileSync(full));
  }
  for (const [name, text] of Object.entries(extra)) pack.entry({ name, mode: 0o644 }, text);
  pack.finalize();
  return pack as unknown as NodeJS.ReadableStream;
}
