import type { Engine, PullProgress } from '../engine/index.js';

/** What `--json` prints about a pull in progress, at most once a second per image, and when it ends. */
export interface PullProgressEvent {
  type: 'pull-progress';
  at: string;
  image: string;
  /** Layers seen, and those finished (pulled or already present). */
  layers: number;
  layersDone: number;
  /** Bytes downloaded and to download, over the layers whose size the engine has told. */
  downloaded: number;
  total: number;
  /** `pulling`, or how it ended. */
  state: 'pulling' | 'done' | 'failed' | 'cancelled';
  elapsedMs: number;
}

interface Layer {
  status: string;
  current: number;
  total: number;
  done: boolean;
}

const DONE = /^(Pull complete|Already exists|Download complete)$/;

/** Per-layer state of one pull, from the engine's progress messages. */
export class PullTracker {
  readonly layers = new Map<string, Layer>();
  readonly started: number;

  constructor(
    readonly image: string,
    now: number,
  ) {
    this.started = now;
  }

  update(p: PullProgress): void {
    // Layer messages carry a short hex id; the tag/digest lines are about the image.
    if (!p.id || !/^[0-9a-f]{12}$/.test(p.id)) return;
    const l = this.layers.get(p.id) ?? { status: '', current: 0, total: 0, done: false };
    l.status = p.status;
    if (p.status === 'Downloading') {
      if (p.current !== undefined) l.current = p.current;
      if (p.total !== undefined) l.total = p.total;
    }
    if (p.status === 'Download complete' && l.total) l.current = l.total;
    if (p.status === 'Pull complete' || p.status === 'Already exists') l.done = true;
    this.layers.set(p.id, l);
  }

  snapshot(now: number, state: PullProgressEvent['state']): PullProgressEvent {
    let downloaded = 0;
    let total = 0;
    let done = 0;
    for (const l of this.layers.values()) {
      downloaded += l.current;
      total += l.total;
      if (l.done) done++;
    }
    return { type: 'pull-progress', at: new Date(now).toISOString(), image: this.image, layers: this.layers.size, layersDone: done, downloaded, total, state, elapsedMs: now - this.started };
  }

  /** One terminal line: overall, then the layers still moving. */
  line(now: number, width: number): string {
    const s = this.snapshot(now, 'pulling');
    const active = [...this.layers.entries()].filter(([, l]) => !l.done && !DONE.test(l.status)).slice(0, 3);
    const layers = active.map(([id, l]) => `${id.slice(0, 7)} ${l.status.toLowerCase()}${l.total ? ` ${Math.floor((100 * l.current) / l.total)}%` : ''}`).join(', ');
    const bytes = s.total ? ` ${mb(s.downloaded)}/${mb(s.total)} MB` : '';
    const text = `pull ${this.image}: ${s.layersDone}/${s.layers} layers${bytes} ${(s.elapsedMs / 1000).toFixed(0)}s${layers ? ` — ${layers}` : ''}`;
    return text.length > width ? `${text.slice(0, Math.max(10, width - 1))}…` : text;
  }
}

const mb = (n: number) => (n / 1e6).toFixed(1);

export interface PullProgressOptions {
  /** The terminal to draw on (stderr when it is a TTY); none: no drawing. */
  tty?: NodeJS.WriteStream | undefined;
  /** `--json`: receives one event a second per pull, and one when it ends. */
  json?: ((e: PullProgressEvent) => void) | undefined;
  /** Ctrl-C / SIGTERM: cancels pulls in flight (nothing is changed before a pull completes). */
  signal?: AbortSignal | undefined;
  intervalMs?: number | undefined;
  now?: (() => number) | undefined;
}

/**
 * The engine, with every pull (deploy, watch, chaos helpers…) shown on the terminal — overall and
 * per layer, redrawn at least once a second — or as NDJSON events with --json, and cancelled by
 * the command's Ctrl-C. Quiet when stderr is not a terminal and without --json.
 */
export function withPullProgress(engine: Engine, o: PullProgressOptions): Engine {
  const now = o.now ?? Date.now;
  const every = o.intervalMs ?? 1000;
  const pullImage: Engine['pullImage'] = async (ref, onProgress, options = {}) => {
    const tracker = new PullTracker(ref, now());
    const draw = () => {
      if (o.tty) o.tty.write(`\r\x1b[2K${tracker.line(now(), (o.tty.columns || 100) - 1)}`);
      o.json?.(tracker.snapshot(now(), 'pulling'));
    };
    const timer = o.tty || o.json ? setInterval(draw, every) : undefined;
    timer?.unref();
    let lastDraw = 0;
    const signal = o.signal && options.signal ? AbortSignal.any([o.signal, options.signal]) : (o.signal ?? options.signal);
    let state: PullProgressEvent['state'] = 'failed';
    try {
      await engine.pullImage(
        ref,
        (line, p) => {
          if (p) tracker.update(p);
          // The terminal is redrawn as progress arrives (at most 4 times a second) and by the timer.
          if (o.tty && now() - lastDraw >= 250) {
            lastDraw = now();
            o.tty.write(`\r\x1b[2K${tracker.line(now(), (o.tty.columns || 100) - 1)}`);
          }
          onProgress?.(line, p);
        },
        { ...options, ...(signal ? { signal } : {}) },
      );
      state = 'done';
    } catch (err) {
      state = signal?.aborted ? 'cancelled' : 'failed';
      throw err;
    } finally {
      clearInterval(timer);
      if (o.tty) {
        const s = tracker.snapshot(now(), state);
        o.tty.write(`\r\x1b[2K${state === 'done' ? `pulled ${ref}: ${s.layers} layers${s.total ? `, ${mb(s.total)} MB` : ''} in ${(s.elapsedMs / 1000).toFixed(1)}s\n` : ''}`);
      }
      o.json?.(tracker.snapshot(now(), state));
    }
  };
  return new Proxy(engine, {
    get(target, prop) {
      if (prop === 'pullImage') return pullImage;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The progress options for a command: the terminal when stderr is one (and not --json), NDJSON with --json. */
export function pullProgressFor(json: ((e: PullProgressEvent) => void) | undefined, signal?: AbortSignal): PullProgressOptions {
  return { tty: !json && process.stderr.isTTY ? process.stderr : undefined, json, signal };
}
