import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import type { Engine } from '../engine/index.js';
import { findStaticBusybox } from './busybox.js';

export interface HostToolsImage {
  tag: string;
  /** Programs to include, by name on PATH or absolute path (symlink names are kept). */
  programs: readonly string[];
  /** Folders copied whole (plugin folders such as iptables' xtables extensions). */
  folders?: readonly string[];
  /** Extra files written into the image: absolute path → contents. */
  files?: Readonly<Record<string, string>>;
  entrypoint?: readonly string[];
}

function which(program: string): string | undefined {
  if (program.startsWith('/')) return existsSync(program) ? program : undefined;
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/** Shared libraries (and the loader) a dynamic ELF needs, from ldd. */
export function sharedLibraries(binary: string): string[] {
  let out = '';
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // static, or not an ELF
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Copies a file into the rootfs at the same path, recreating a symlink as an absolute link to its target. */
function place(rootfs: string, path: string, seen: Set<string>) {
  if (seen.has(path)) return;
  seen.add(path);
  const dest = join(rootfs, path);
  mkdirSync(dirname(dest), { recursive: true });
  if (lstatSync(path).isSymbolicLink()) {
    const real = realpathSync(path);
    place(rootfs, real, seen);
    if (!existsSync(dest)) symlinkSync(real, dest);
    return;
  }
  copyFileSync(path, dest);
}

/**
 * Builds a small image FROM scratch holding host programs with their shared libraries — kiboko's
 * helper images (tc, iptables, nft, ip; stress-ng) on hosts that cannot reach a registry. The
 * images/*\/Dockerfile files build the same images from a registry base where one is reachable.
 */
export async function buildHostToolsImage(engine: Engine, spec: HostToolsImage, onProgress?: (line: string) => void): Promise<string> {
  const rootfs = mkdtempSync(join(tmpdir(), 'kiboko-image-'));
  const ctx = join(rootfs, 'ctx');
  const fs = join(ctx, 'rootfs');
  try {
    mkdirSync(fs, { recursive: true });
    const seen = new Set<string>();
    const binaries: string[] = [];
    for (const p of spec.programs) {
      const path = which(p);
      if (!path) throw new KibokoError('INVALID_ARGUMENT', `cannot build ${spec.tag}: '${p}' is not installed on this host`, { hint: `install it (apt-get install ${p === 'stress-ng' ? 'stress-ng' : p === 'nft' ? 'nftables' : p === 'tc' || p === 'ip' ? 'iproute2' : p})` });
      place(fs, path, seen);
      binaries.push(realpathSync(path));
    }
    for (const folder of spec.folders ?? []) {
      if (!existsSync(folder)) continue;
      for (const entry of readdirSync(folder)) {
        const file = join(folder, entry);
        place(fs, file, seen);
        if (entry.endsWith('.so')) binaries.push(realpathSync(file));
      }
    }
    for (const bin of binaries) for (const lib of sharedLibraries(bin)) place(fs, lib, seen);
    for (const [path, contents] of Object.entries(spec.files ?? {})) {
      mkdirSync(dirname(join(fs, path)), { recursive: true });
      writeFileSync(join(fs, path), contents);
    }
    const busybox = findStaticBusybox();
    if (busybox) {
      mkdirSync(join(fs, 'bin'), { recursive: true });
      copyFileSync(busybox, join(fs, 'bin', 'busybox'));
      for (const tool of ['sh', 'sleep', 'cat', 'ls']) if (!existsSync(join(fs, 'bin', tool))) symlinkSync('/bin/busybox', join(fs, 'bin', tool));
    }
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'FROM scratch',
        'COPY rootfs/ /',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        `LABEL ${LABELS.skip}=true ${LABELS.managed}=true`,
        ...(spec.entrypoint ? [`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`] : []),
        '',
      ].join('\n'),
    );
    await engine.buildImage({ contextDir: ctx, tag: spec.tag, onProgress });
    return spec.tag;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

export const NETTOOLS_IMAGE: HostToolsImage = {
  tag: 'kiboko/nettools:local',
  programs: ['tc', 'ip', 'iptables', 'iptables-save', 'iptables-restore', 'nft'],
  folders: ['/usr/lib/x86_64-linux-gnu/xtables', '/usr/lib/aarch64-linux-gnu/xtables', '/usr/lib/tc'],
};

export const STRESS_IMAGE: HostToolsImage = {
  tag: 'kiboko/stress-ng:local',
  programs: ['stress-ng'],
  entrypoint: ['stress-ng'],
};
