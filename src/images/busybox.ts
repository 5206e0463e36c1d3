import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';

export const BUSYBOX_IMAGE = 'kiboko/busybox:local';

const CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/sbin/busybox'];

/** Finds a statically linked busybox on the host (Debian's busybox-static). */
export function findStaticBusybox(): string | undefined {
  for (const path of CANDIDATES) {
    if (!existsSync(path)) continue;
    const head = readFileSync(path).subarray(0, 4096);
    // A dynamic ELF names its loader in PT_INTERP near the start of the file.
    if (!head.includes('ld-linux') && !head.includes('ld-musl')) return path;
  }
  return undefined;
}

/**
 * Builds a tiny busybox image FROM scratch through the engine, from the host's static busybox,
 * because no registry may be reachable. Idempotent: an existing image is reused.
 */
export async function ensureBusyboxImage(engine: Engine, tag = BUSYBOX_IMAGE, onProgress?: (line: string) => void): Promise<string> {
  if (await engine.imageExists(tag)) return tag;
  const busybox = findStaticBusybox();
  if (!busybox) {
    throw new KibokoError('INVALID_ARGUMENT', 'no statically linked busybox found on this host to build the demo image from', {
      hint: 'install it: apt-get install -y busybox-static',
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-busybox-'));
  try {
    copyFileSync(busybox, join(dir, 'busybox'));
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'RUN ["/bin/busybox", "mkdir", "-p", "/tmp", "/root", "/data"]',
        'ENV PATH=/bin',
        'CMD ["/bin/sh"]',
        '',
      ].join('\n'),
    );
    // No labels: image labels are inherited by every container made from it.
    await engine.buildImage({ contextDir: dir, tag, onProgress });
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
