/**
 * Tar archives held in memory (what the engine's putArchive takes and getArchive returns):
 * every entry read at once, or entries packed into one buffer.
 */
import tarStream from 'tar-stream';

/** One entry of an archive read by readTar, its content in memory (empty for non-files). */
export interface TarEntry {
  name: string;
  /** 'file', 'directory', 'symlink', … ('file' when the header has none). */
  type: string;
  /** As in the header (0o644 when it has none), special bits included. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date | undefined;
  linkname: string | undefined;
  data: Buffer;
}

/** What packTar writes for one entry: tar-stream's header, plus the content of a file. */
export type TarInput = Partial<tarStream.Header> & { name: string; data?: Buffer | string };

/** Every entry of the archive, in order. */
export async function readTar(tar: Buffer): Promise<TarEntry[]> {
  const extract = tarStream.extract();
  const entries: TarEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (b: unknown) => void chunks.push(b as Buffer));
      stream.on('end', () => {
        entries.push({
          name: header.name,
          type: header.type ?? 'file',
          mode: header.mode ?? 0o644,
          uid: header.uid ?? 0,
          gid: header.gid ?? 0,
          mtime: header.mtime,
          linkname: header.linkname ?? undefined,
          data: Buffer.concat(chunks),
        });
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(tar);
  await done;
  return entries;
}

/** An archive of these entries (a file without `data` is empty). */
export async function packTar(entries: readonly TarInput[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const { data, ...header } of entries) {
    // tar-stream waits for a file's content when it gets none: give it an empty one.
    const file = !header.type || header.type === 'file' || header.type === 'contiguous-file';
    if (data === undefined && !file) pack.entry(header);
    else pack.entry(header, data ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const b of pack as unknown as AsyncIterable<Buffer>) chunks.push(b);
  return Buffer.concat(chunks);
}
