import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { onAbort } from '../../common/abort.js';
import { KibokoError } from '../../common/errors.js';
import type { ExecOptions, ExecResult, LogChunk, LogsOptions } from '../types.js';
import type { DockerContext } from './context.js';
import { translateEngineError } from './errors.js';

export async function execInContainer(ctx: DockerContext, id: string, options: ExecOptions): Promise<ExecResult> {
  const op = `exec in ${id}`;
  return (await ctx.call(op, async () => {
    const exec = await ctx.docker.getContainer(id).exec({
      Cmd: [...options.cmd],
      AttachStdout: true,
      AttachStderr: true,
      User: options.user,
      Env: options.env ? [...options.env] : undefined,
      WorkingDir: options.workingDir,
      Privileged: options.privileged ?? false,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    let stdout = '';
    let stderr = '';
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (b: Buffer) => {
      const s = b.toString('utf8');
      stdout += s;
      options.onOutput?.('stdout', s);
    });
    err.on('data', (b: Buffer) => {
      const s = b.toString('utf8');
      stderr += s;
      options.onOutput?.('stderr', s);
    });
    ctx.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      onAbort(options.signal, () => {
        stream.destroy();
        reject(new KibokoError('CANCELLED', `${op}: cancelled`));
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    const inspected = await exec.inspect();
    return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
  }))!;
}

export async function containerLogs(ctx: DockerContext, id: string, options: LogsOptions = {}): Promise<string> {
  const buf = await ctx.call(`logs ${id}`, async () => {
    const raw = (await ctx.docker.getContainer(id).logs({
      stdout: true,
      stderr: true,
      follow: false,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
      timestamps: options.timestamps ?? false,
    })) as unknown as Buffer;
    return demuxBuffer(raw);
  });
  return buf ?? '';
}

export async function* streamLogs(ctx: DockerContext, id: string, options: LogsOptions & { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<LogChunk> {
  const op = `logs ${id}`;
  const info = await ctx.call(`inspect ${id}`, () => ctx.docker.getContainer(id).inspect());
  const tty = Boolean((info as { Config?: { Tty?: boolean } } | undefined)?.Config?.Tty);
  const common = {
    stdout: true,
    stderr: true,
    ...(options.tail !== undefined ? { tail: options.tail } : {}),
    ...(options.since !== undefined ? { since: options.since } : {}),
    timestamps: options.timestamps ?? false,
  };
  if (!options.follow) {
    const buf = (await ctx.call(op, () => ctx.docker.getContainer(id).logs({ ...common, follow: false }))) as unknown as Buffer | undefined;
    yield* demuxChunks(buf ?? Buffer.alloc(0), tty);
    return;
  }
  const raw = (await ctx.call(op, () => ctx.docker.getContainer(id).logs({ ...common, follow: true, abortSignal: options.signal } as Docker.ContainerLogsOptions & { follow: true }))) as unknown as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const queue: LogChunk[] = [];
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const push = (c: LogChunk) => {
    queue.push(c);
    wake?.();
  };
  if (tty) raw.on('data', (b: Buffer) => push({ stream: 'stdout', text: b.toString('utf8') }));
  else {
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (b: Buffer) => push({ stream: 'stdout', text: b.toString('utf8') }));
    err.on('data', (b: Buffer) => push({ stream: 'stderr', text: b.toString('utf8') }));
    ctx.docker.modem.demuxStream(raw, out, err);
  }
  const finish = () => {
    done = true;
    wake?.();
  };
  raw.on('end', finish);
  raw.on('close', finish);
  raw.on('error', (e: unknown) => {
    failure = e;
    finish();
  });
  // Also when the signal fired while the engine was answering.
  const off = onAbort(options.signal, () => {
    raw.destroy();
    finish();
  });
  try {
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (done) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    if (failure && !options.signal?.aborted) throw translateEngineError(failure, { endpoint: ctx.endpoint, operation: op }) ?? failure;
  } finally {
    off();
    raw.destroy();
  }
}

/** The engine's multiplexed log format as chunks per stream (a TTY container's log is raw text). */
function demuxChunks(buf: Buffer, tty: boolean): LogChunk[] {
  if (!Buffer.isBuffer(buf)) return [{ stream: 'stdout', text: String(buf ?? '') }];
  if (tty) return buf.length ? [{ stream: 'stdout', text: buf.toString('utf8') }] : [];
  const out: LogChunk[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type !== 0 && type !== 1 && type !== 2) return [{ stream: 'stdout', text: buf.toString('utf8') }];
    out.push({ stream: type === 2 ? 'stderr' : 'stdout', text: buf.subarray(i + 8, i + 8 + size).toString('utf8') });
    i += 8 + size;
  }
  return out;
}

/** Splits the engine's multiplexed log format (8-byte frame headers) into text. */
function demuxBuffer(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf ?? '');
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type !== 0 && type !== 1 && type !== 2) return buf.toString('utf8');
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}
