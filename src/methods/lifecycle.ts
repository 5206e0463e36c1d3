/**
 * Lifecycle methods declared with an image: `LABEL kiboko.method.<name>=<command>` (a JSON argv
 * list or shell words — never through a shell unless the command itself is `sh -c …`), run inside
 * a container by one generic runner with typed outcomes. Container labels include the image's,
 * so a container declares whatever its image declares, and can add or override methods.
 */
import { onAbort } from '../common/abort.js';
import { compareNames } from '../common/collate.js';
import { systemClock, type Clock } from '../common/clock.js';
import { mapSettled } from '../common/concurrency.js';
import { asKibokoError, invalidArgument, isAbortError, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { splitShellWords } from '../shellwords/index.js';
import type { ContainerRef, Engine } from '../engine/index.js';
import { parseTargetArgs, planSelection, selectsEverything } from '../targets/index.js';

/**
 * Exit codes, stable for scripts: 0 the method succeeded, 1 it ran and failed, 2 the container
 * does not declare it, 3 it could not be run (container not running or gone, bad declaration,
 * command not found or not executable — exec exit 126/127 —, timeout, engine error).
 */
export const LIFECYCLE_EXIT = { ok: 0, failed: 1, notDeclared: 2, couldNotRun: 3 } as const;
export type LifecycleCode = (typeof LIFECYCLE_EXIT)[keyof typeof LIFECYCLE_EXIT];
export type LifecycleOutcome = 'ok' | 'failed' | 'not-declared' | 'could-not-run';

const OUTCOME: Record<LifecycleCode, LifecycleOutcome> = { 0: 'ok', 1: 'failed', 2: 'not-declared', 3: 'could-not-run' };

/**
 * Several containers, one exit code: the worst by this order — a method that ran and failed (1)
 * is the one definite bad verdict and must never be hidden by an unknown; then could not run (3),
 * then not declared (2), then ok (0). Every container's own code is in the results regardless.
 */
export const SEVERITY: readonly LifecycleCode[] = [1, 3, 2, 0];

export function worstCode(codes: Iterable<LifecycleCode>): LifecycleCode {
  let worst: LifecycleCode = 0;
  for (const c of codes) if (SEVERITY.indexOf(c) < SEVERITY.indexOf(worst)) worst = c;
  return worst;
}

const METHOD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function validateMethodName(method: string): string {
  if (!METHOD_NAME.test(method)) {
    throw invalidArgument(`invalid method name '${method}': expected letters, digits, . _ - (e.g. validate)`, 'e.g. kiboko lifecycle validate web-1');
  }
  return method;
}

export const methodLabel = (method: string): string => `${LABELS.methodPrefix}${method}`;

/**
 * The argv of a declared command: `["/bin/check", "--deep"]` (JSON) or `/bin/check --deep`
 * (shell words: quotes and backslashes as compose reads them; `;`, `|`, `&&`, redirections are
 * refused — write `sh -c '…'` to get a shell).
 */
export function parseMethodCommand(value: string): string[] {
  const text = value.trim();
  if (text === '') throw invalidArgument('expected a command, got an empty value', 'e.g. LABEL kiboko.method.validate=/srv/bin/validate.sh');
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw invalidArgument(`expected a JSON list of strings, got ${JSON.stringify(text)} (${(cause as Error).message})`, 'e.g. ["/srv/bin/validate.sh", "--quick"]', cause);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((w) => typeof w === 'string') || parsed[0] === '') {
      throw invalidArgument(`expected a non-empty JSON list of strings, got ${JSON.stringify(text)}`, 'e.g. ["/srv/bin/validate.sh", "--quick"]');
    }
    return parsed as string[];
  }
  const words = splitShellWords(text);
  if (words.length === 0) throw invalidArgument(`expected a command, got ${JSON.stringify(value)}`, 'e.g. /srv/bin/validate.sh');
  return words;
}

export type MethodDeclaration = { declared: false } | { declared: true; command: string[] } | { declared: true; error: string };

/** What a container's (or image's) labels declare for a method. */
export function resolveMethod(labels: Readonly<Record<string, string>>, method: string): MethodDeclaration {
  const raw = labels[methodLabel(method)];
  if (raw === undefined) return { declared: false };
  try {
    return { declared: true, command: parseMethodCommand(raw) };
  } catch (err) {
    return { declared: true, error: `invalid declaration ${methodLabel(method)}: ${asKibokoError(err).message}` };
  }
}

/** The methods a set of labels declares, by name. */
export function declaredMethods(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels)
    .filter((k) => k.startsWith(LABELS.methodPrefix) && k.length > LABELS.methodPrefix.length)
    .map((k) => k.slice(LABELS.methodPrefix.length))
    .sort();
}

export interface LifecycleResult {
  container: ContainerRef;
  method: string;
  code: LifecycleCode;
  outcome: LifecycleOutcome;
  /** The method's own exit code, when it ran to the end. */
  exitCode?: number | undefined;
  command?: readonly string[] | undefined;
  durationMs: number;
  /** Why it failed or could not run. */
  reason?: string | undefined;
  stdout: string;
  stderr: string;
}

export type LifecycleEvent =
  | { type: 'method-started'; container: ContainerRef; method: string; command: readonly string[] }
  | { type: 'method-output'; container: ContainerRef; method: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'method-finished'; result: LifecycleResult };

export interface RunMethodOptions {
  /** Per container; the method then counts as could-not-run (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
  user?: string;
  env?: readonly string[];
  onEvent?: (e: LifecycleEvent) => void;
}

export const DEFAULT_METHOD_TIMEOUT_MS = 60_000;

/** Keeps at most this much of each stream in a result (the whole output is streamed through events). */
const KEEP = 64 * 1024;
const tail = (s: string) => (s.length > KEEP ? s.slice(s.length - KEEP) : s);

/** Runs a declared method in one container. Never throws for the container's sake: the result says what happened. */
export async function runMethod(engine: Engine, container: string | ContainerRef, method: string, options: RunMethodOptions = {}): Promise<LifecycleResult> {
  validateMethodName(method);
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  let ref: ContainerRef = typeof container === 'string' ? { id: container, name: container } : container;
  let stdout = '';
  let stderr = '';
  let command: string[] | undefined;
  const done = (code: LifecycleCode, extra: { exitCode?: number; reason?: string } = {}): LifecycleResult => {
    const result: LifecycleResult = { container: ref, method, code, outcome: OUTCOME[code], ...extra, command, durationMs: clock.now() - started, stdout: tail(stdout), stderr: tail(stderr) };
    options.onEvent?.({ type: 'method-finished', result });
    return result;
  };
  let details;
  try {
    details = await engine.inspect(ref.id);
  } catch (err) {
    const e = asKibokoError(err);
    return done(3, { reason: e.code === 'TARGET_NOT_FOUND' ? `no such container: ${ref.name}` : e.message });
  }
  ref = { id: details.id, name: details.name };
  const declaration = resolveMethod(details.labels, method);
  if (!declaration.declared) return done(2, { reason: `${ref.name} does not declare ${method} (no ${methodLabel(method)} label)` });
  if ('error' in declaration) return done(3, { reason: declaration.error });
  command = declaration.command;
  if (details.status !== 'running') return done(3, { reason: `container is ${details.status}, not running` });

  const timeoutMs = options.timeoutMs ?? DEFAULT_METHOD_TIMEOUT_MS;
  const stop = new AbortController();
  const offOuter = onAbort(options.signal, () => stop.abort(options.signal?.reason));
  let timedOut = false;
  const timer = clock.sleep(timeoutMs, stop.signal).then(
    () => {
      timedOut = true;
      stop.abort(new KibokoError('TIMEOUT', `timed out after ${timeoutMs} ms`));
    },
    () => undefined,
  );
  options.onEvent?.({ type: 'method-started', container: ref, method, command });
  try {
    const exec = engine.exec(ref.id, {
      cmd: command,
      signal: stop.signal,
      ...(options.user ? { user: options.user } : {}),
      ...(options.env ? { env: options.env } : {}),
      onOutput: (stream, text) => {
        if (stream === 'stdout') stdout += text;
        else stderr += text;
        options.onEvent?.({ type: 'method-output', container: ref, method, stream, text });
      },
    });
    // An engine that ignores the signal must not hold the runner past the timeout.
    const aborted = new Promise<never>((_, reject) => {
      onAbort(stop.signal, () => reject(stop.signal.reason ?? new KibokoError('CANCELLED', 'cancelled')));
    });
    aborted.catch(() => undefined);
    const r = await Promise.race([exec, aborted]);
    exec.catch(() => undefined);
    // Engines that do not stream (or a fake) still hand back the whole output.
    if (!stdout && r.stdout) stdout = r.stdout;
    if (!stderr && r.stderr) stderr = r.stderr;
    if (r.exitCode === 0) return done(0, { exitCode: 0 });
    if (r.exitCode === 126 || r.exitCode === 127) {
      return done(3, { exitCode: r.exitCode, reason: `${command[0]} ${r.exitCode === 127 ? 'not found' : 'could not be executed (missing or not executable)'} in the container (exit ${r.exitCode})` });
    }
    if (r.exitCode < 0) return done(3, { reason: 'the engine reported no exit code' });
    return done(1, { exitCode: r.exitCode, reason: `${method} exited with ${r.exitCode}` });
  } catch (err) {
    if (timedOut) return done(3, { reason: `${method} did not finish within ${Math.round(timeoutMs / 100) / 10}s (it may still be running in the container)` });
    if (options.signal?.aborted || isAbortError(err)) return done(3, { reason: 'cancelled' });
    const e = asKibokoError(err);
    if (e.code === 'CONFLICT') return done(3, { reason: `cannot exec in ${ref.name}: ${e.message}` });
    return done(3, { reason: e.message });
  } finally {
    offOuter();
    stop.abort();
    await timer;
  }
}

export interface LifecycleOptions extends RunMethodOptions {
  /** Containers run at once (default 8). */
  concurrency?: number;
}

export interface LifecycleReport {
  method: string;
  /** The worst code (see SEVERITY); 2 when there were no containers at all. */
  code: LifecycleCode;
  results: LifecycleResult[];
}

/** Runs a method in each container (bounded concurrency); one container never hides another's result. */
export async function runLifecycle(engine: Engine, containers: readonly (string | ContainerRef)[], method: string, options: LifecycleOptions = {}): Promise<LifecycleReport> {
  validateMethodName(method);
  const settled = await mapSettled(containers, options.concurrency ?? 8, (c) => runMethod(engine, c, method, options));
  const results = settled.map((s, i): LifecycleResult => {
    if (s.ok) return s.value;
    const c = containers[i]!;
    const ref = typeof c === 'string' ? { id: c, name: c } : c;
    return { container: ref, method, code: 3, outcome: 'could-not-run', reason: asKibokoError(s.error).message, durationMs: 0, stdout: '', stderr: '' };
  });
  return { method, code: results.length ? worstCode(results.map((r) => r.code)) : 2, results };
}

/** Exec-based readiness gate for deploys: the method exits 0 (ok), or why not and whether retrying can help. */
export async function checkMethodGate(
  engine: Engine,
  containerId: string,
  method: string,
  options: { timeoutMs?: number; signal?: AbortSignal; clock?: Clock } = {},
): Promise<{ ok: true } | { ok: false; retry: boolean; reason: string }> {
  const r = await runMethod(engine, containerId, method, options);
  if (r.code === 0) return { ok: true };
  const reason = r.reason ?? r.outcome;
  const why = `${reason.startsWith(`${method} `) ? '' : `${method}: `}${reason}${r.code === 1 && r.stderr.trim() ? ` — ${r.stderr.trim().split('\n').slice(-1)[0]}` : ''}`;
  // Not declared or a bad declaration never fixes itself; a failing or not-yet-runnable check may.
  const permanent = r.code === 2 || (r.code === 3 && /invalid declaration|not found in the container|could not be executed/.test(r.reason ?? ''));
  return { ok: false, retry: !permanent, reason: why };
}

/**
 * The containers a lifecycle command acts on, with the shared target syntax: names, IDs and
 * `re2:` patterns (any state: a stopped one is reported as could-not-run, not skipped), `--label`
 * filters alone (running containers), or `all` — the running containers that declare the method.
 * Names that match nothing are returned as they are (they report could-not-run).
 */
export async function selectLifecycleTargets(
  engine: Engine,
  method: string,
  args: readonly string[],
  options: { all?: boolean; labels?: readonly string[] } = {},
): Promise<(ContainerRef | string)[]> {
  validateMethodName(method);
  const query = parseTargetArgs(args, options.labels ?? []);
  if (!options.all && selectsEverything(query) && query.labels.length === 0) {
    throw invalidArgument('no containers given', `name them (web-1, 're2:^web'), select with --label k=v, or use --all for every running container that declares ${method}`);
  }
  const states = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const;
  const explicit = !selectsEverything(query);
  const candidates = options.all
    ? await engine.list({ labels: [...query.labels, methodLabel(method)] })
    : await engine.list({ all: explicit, labels: query.labels });
  // Not chaos: running a method the image declares is harmless, so skip labels do not protect.
  const plan = planSelection(candidates, query, { states: options.all || !explicit ? ['running'] : states, seed: 0, selfId: null });
  const picked = [...plan.selected, ...plan.skipped.filter((s) => s.reason !== 'state').map((s) => s.container)];
  picked.sort((a, b) => compareNames(a.name, b.name));
  return [...picked.map((c) => ({ id: c.id, name: c.name })), ...plan.unmatched];
}
