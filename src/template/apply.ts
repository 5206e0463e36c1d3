import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { errorMessage, KibokoError } from '../common/errors.js';
import { commandOk, describeFailure, type CommandResult } from './commands.js';
import type { CurrentFile, ResourcePlan } from './plan.js';

/**
 * Where a destination file lives: the host's filesystem or a container's. The transaction in
 * `applyPlan` is written once against this interface.
 */
export interface Destination {
  /** `host`, or the container's name. */
  readonly label: string;
  /** False when files can only be written in place (a container without sh/mv). */
  readonly atomic: boolean;
  read(dest: string): Promise<CurrentFile | undefined>;
  /** Writes a new file at `path` (which must not exist) with mode and owner; returns warnings. */
  create(path: string, content: Buffer, mode: number, uid: number | undefined, gid: number | undefined, ownerRequired: boolean): Promise<string[]>;
  /** Atomically puts `staged` in place of `dest` (rename), durably. */
  replace(staged: string, dest: string): Promise<void>;
  /** Writes `dest` in place (not atomic): for bind-mounted files and shell-less containers. */
  overwrite(dest: string, content: Buffer, mode: number, uid: number | undefined, gid: number | undefined): Promise<string[]>;
  remove(path: string): Promise<void>;
  run(kind: 'check' | 'reload', command: string, stagedPath: string | undefined, timeoutMs: number, signal: AbortSignal | undefined): Promise<CommandResult>;
}

export type ApplyOutcome = 'unchanged' | 'noop' | 'written' | 'reloaded' | 'check-failed' | 'reload-failed-restored' | 'failed' | 'cancelled';

export interface ApplyResult {
  resource: string;
  dest: string;
  /** `host` or the container's name. */
  target: string;
  outcome: ApplyOutcome;
  reasons: string[];
  /** Unified diff (noop, and whenever the file changed). */
  diff?: string;
  /** False when the file was written in place rather than renamed over. */
  atomic?: boolean;
  error?: KibokoError;
  check?: CommandResult;
  reload?: CommandResult;
  /** The reload run after restoring the previous file. */
  restoreReload?: CommandResult;
  warnings: string[];
  ms: number;
}

export interface ApplyOptions {
  checkTimeoutMs?: number;
  reloadTimeoutMs?: number;
  /** confd's -sync-only: write files, skip check_cmd and reload_cmd. */
  syncOnly?: boolean;
  /** confd's -noop: report the diff, change nothing. */
  noop?: boolean;
  /** Cancels before the commit point (the rename); a reload already begun runs to its timeout. */
  signal?: AbortSignal | undefined;
  /** Staged-file suffix (tests); random by default. */
  suffix?: () => string;
  now?: () => number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
export const DEFAULT_RELOAD_TIMEOUT_MS = 30_000;

/** Staged files in flight, removed by the CLI's exit hook if kiboko is killed mid-apply. */
const inFlight = new Map<string, Destination>();
export function stagedFilesInFlight(): { path: string; target: string }[] {
  return [...inFlight].map(([path, d]) => ({ path, target: d.label }));
}

export function stagedPath(dest: string, suffix: string): string {
  return join(dirname(dest), `.${basename(dest)}.kiboko-${suffix}`);
}

/**
 * The transaction for one changed file: stage next to the destination (same filesystem) with
 * its mode and owner → check_cmd on the staged file (with a timeout; on failure the old file is
 * untouched) → atomic rename → reload_cmd (with a timeout) → on reload failure, put the previous
 * file back (or remove a file that did not exist) the same atomic way and reload again.
 * The staged file never outlives the call.
 */
export async function applyPlan(plan: ResourcePlan, to: Destination, options: ApplyOptions = {}): Promise<ApplyResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const r = plan.resource;
  const result: ApplyResult = { resource: r.name, dest: r.dest, target: to.label, outcome: 'unchanged', reasons: plan.reasons, warnings: [], ms: 0 };
  const done = (outcome: ApplyOutcome, extra: Partial<ApplyResult> = {}): ApplyResult => Object.assign(result, { outcome, ms: now() - started }, extra);
  if (!plan.changed) return done('unchanged');
  result.diff = plan.diff;
  if (options.noop) return done('noop');

  const checkTimeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const reloadTimeoutMs = options.reloadTimeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS;
  const runCheck = !options.syncOnly && r.checkCmd !== undefined;
  const runReload = !options.syncOnly && r.reloadCmd !== undefined;
  const ownerRequired = r.uid !== undefined || r.gid !== undefined;
  const suffix = options.suffix ?? (() => randomBytes(6).toString('hex'));
  const txn: ApplyTxn = { plan, to, result, done, suffix, runReload, reloadTimeoutMs };

  if (!to.atomic) {
    if (runCheck) {
      return done('failed', {
        error: new KibokoError('ACTION_FAILED', `${r.name}: check_cmd needs sh and mv in ${to.label} to check a staged file; nothing was written`, {
          hint: 'use an image with a shell (busybox is enough), or drop check_cmd / use --sync-only',
        }),
      });
    }
    try {
      result.warnings.push(`${to.label}: no sh/mv in the container; ${r.dest} was written in place (not atomic)`);
      result.warnings.push(...(await to.overwrite(r.dest, plan.content, plan.mode, plan.uid, plan.gid)));
      result.atomic = false;
    } catch (err) {
      return done('failed', { error: wrap(`${r.name}: cannot write ${r.dest} in ${to.label}`, err) });
    }
    return reloadPhase(txn);
  }

  const staged = stagedPath(r.dest, suffix());
  inFlight.set(staged, to);
  let stagedExists = false;
  try {
    try {
      stagedExists = true;
      result.warnings.push(...(await to.create(staged, plan.content, plan.mode, plan.uid, plan.gid, ownerRequired)));
    } catch (err) {
      return done('failed', { error: wrap(`${r.name}: cannot stage ${r.dest}${to.label === 'host' ? '' : ` in ${to.label}`}`, err) });
    }
    if (runCheck) {
      const check = await to.run('check', r.checkCmd!, staged, checkTimeoutMs, options.signal);
      result.check = check;
      if (check.cancelled) return done('cancelled', { error: new KibokoError('CANCELLED', `${r.name}: cancelled during check_cmd; ${r.dest} untouched`) });
      if (!commandOk(check)) {
        return done('check-failed', {
          error: new KibokoError('ACTION_FAILED', `${r.name}: ${describeFailure('check_cmd', check, checkTimeoutMs)}; ${r.dest} kept unchanged`, {
            hint: `fix the values or the template; the check ran on the staged file (${staged})`,
          }),
        });
      }
    }
    if (options.signal?.aborted) return done('cancelled', { error: new KibokoError('CANCELLED', `${r.name}: cancelled before writing; ${r.dest} untouched`) });
    try {
      await to.replace(staged, r.dest);
      stagedExists = false;
      result.atomic = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') return done('failed', { error: wrap(`${r.name}: cannot replace ${r.dest}`, err) });
      // A bind-mounted file cannot be renamed over (confd falls back the same way).
      result.warnings.push(...(await to.overwrite(r.dest, plan.content, plan.mode, plan.uid, plan.gid)));
      result.warnings.push(`${r.dest} is a mount point; written in place (not atomic)`);
      result.atomic = false;
    }
  } finally {
    if (stagedExists) await to.remove(staged).catch(() => undefined);
    inFlight.delete(staged);
  }
  return reloadPhase(txn);
}

/** One file's transaction, as its phases share it. */
interface ApplyTxn {
  plan: ResourcePlan;
  to: Destination;
  result: ApplyResult;
  done: (outcome: ApplyOutcome, extra?: Partial<ApplyResult>) => ApplyResult;
  suffix: () => string;
  runReload: boolean;
  reloadTimeoutMs: number;
}

/** After the write: reload_cmd; when it fails, the previous file goes back and the service is reloaded again. */
async function reloadPhase(t: ApplyTxn): Promise<ApplyResult> {
  const { plan, to, result, done, runReload, reloadTimeoutMs } = t;
  const r = plan.resource;
  if (!runReload) return done('written');
  // Past the commit point: the reload runs to completion (bounded by its timeout) even when cancelled.
  const reload = await to.run('reload', r.reloadCmd!, undefined, reloadTimeoutMs, undefined);
  result.reload = reload;
  if (commandOk(reload)) return done('reloaded');
  const failure = describeFailure('reload_cmd', reload, reloadTimeoutMs);
  try {
    await restore(t, plan.previous);
  } catch (err) {
    return done('failed', {
      error: new KibokoError('ACTION_FAILED', `${r.name}: ${failure}, and restoring the previous ${r.dest} failed: ${errorMessage(err)}`, {
        hint: `${r.dest} holds the new content; fix it by hand and reload`,
        cause: err,
      }),
    });
  }
  const again = await to.run('reload', r.reloadCmd!, undefined, reloadTimeoutMs, undefined);
  result.restoreReload = again;
  const what = plan.previous ? 'previous file restored' : 'new file removed';
  return done('reload-failed-restored', {
    error: new KibokoError('ACTION_FAILED', `${r.name}: reload failed; ${what} (${failure})${commandOk(again) ? '' : `; ${describeFailure('the reload after restoring', again, reloadTimeoutMs)}`}`, {
      hint: 'the service runs with its previous configuration; fix the values or the template and let kiboko render again',
    }),
  });
}

/** Puts `previous` back at the destination (or removes a file that did not exist), atomically where it can. */
async function restore(t: ApplyTxn, previous: CurrentFile | undefined): Promise<void> {
  const { to, suffix } = t;
  const r = t.plan.resource;
  if (!previous) {
    await to.remove(r.dest);
    return;
  }
  if (!to.atomic) {
    await to.overwrite(r.dest, previous.content, previous.mode, previous.uid, previous.gid);
    return;
  }
  const back = stagedPath(r.dest, suffix());
  inFlight.set(back, to);
  let exists = true;
  try {
    await to.create(back, previous.content, previous.mode, previous.uid, previous.gid, false);
    await to.replace(back, r.dest);
    exists = false;
  } finally {
    if (exists) await to.remove(back).catch(() => undefined);
    inFlight.delete(back);
  }
}

function wrap(message: string, err: unknown): KibokoError {
  if (err instanceof KibokoError) return new KibokoError(err.code, `${message}: ${err.message}`, { hint: err.hint, cause: err });
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === 'ENOENT' ? 'the destination folder must exist (confd does not create it either)' : code === 'EACCES' || code === 'EPERM' ? 'run as a user that may write (and chown) there' : undefined;
  return new KibokoError('ACTION_FAILED', `${message}: ${errorMessage(err)}`, { hint, cause: err });
}
