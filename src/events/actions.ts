import { onAbort } from '../common/abort.js';
import { errorMessage, KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import { dockerEventJson } from './format.js';
import type { EventContext } from './interpolate.js';
import type { Action } from './rules.js';

/** What one action did: a short detail for the firing log. */
export interface ActionOutcome {
  detail: string;
}

/**
 * Everything an action may need besides the engine, injectable so unit tests (and the daemon)
 * can supply their own. Missing ones are loaded on first use.
 */
export interface ActionDeps {
  engine: Engine;
  fetch?: typeof fetch | undefined;
  /** Re-deploys an earlier revision of a project; returns a one-line summary. */
  rollback?: ((project: string, to: number | undefined, signal: AbortSignal) => Promise<string>) | undefined;
  /** Renders a template folder (optionally into a container); returns a one-line summary. */
  render?: ((action: Extract<Action, { kind: 'render' }>, container: string | undefined, signal: AbortSignal) => Promise<string>) | undefined;
  /** Runs a `kiboko.method.<name>` lifecycle method in a container; returns a one-line summary. */
  lifecycle?: ((container: string, method: string, signal: AbortSignal, timeoutMs: number) => Promise<string>) | undefined;
}

const short = (id: string) => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);

/** Runs one action for one event. Throws (a KibokoError) when it failed; the caller logs it. */
export async function runAction(action: Action, ctx: EventContext, deps: ActionDeps, signal: AbortSignal, timeoutMs: number): Promise<ActionOutcome> {
  switch (action.kind) {
    case 'notify': {
      const url = action.url.render(ctx);
      const text = action.text.render(ctx);
      // The event as `docker events --format '{{json .}}'` prints it (docs/webhook-payload.schema.json).
      const event = dockerEventJson({ type: ctx.Type, action: ctx.Action, id: ctx.ID, attributes: ctx.Actor.Attributes, scope: ctx.Scope, time: ctx.Time, timeNano: ctx.TimeNano });
      const body = action.slack
        ? JSON.stringify({ text, username: 'kiboko', ...(action.channel ? { channel: action.channel } : {}) })
        : `${JSON.stringify({ source: 'kiboko', rule: ctx.Rule, text }).slice(0, -1)},"event":${event}}`;
      const doFetch = deps.fetch ?? fetch;
      let res: Response;
      try {
        res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new KibokoError('ACTION_FAILED', `notify ${redact(url)}: ${errorMessage(err)}`, { cause: err });
      }
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new KibokoError('ACTION_FAILED', `notify ${redact(url)}: answered ${res.status} ${res.statusText}`);
      return { detail: `notified ${redact(url)} (${res.status})` };
    }
    case 'exec': {
      const container = action.container.render(ctx);
      const cmd = action.cmd.map((c) => c.render(ctx));
      const r = await deps.engine.exec(container, { cmd, ...(action.user ? { user: action.user } : {}), signal });
      if (r.exitCode !== 0) {
        const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-1)[0] ?? '';
        throw new KibokoError('ACTION_FAILED', `exec in ${short(container)} exited with ${r.exitCode}${why ? `: ${why.slice(0, 200)}` : ''}`);
      }
      return { detail: `exec in ${short(container)}: exit 0` };
    }
    case 'restart': {
      const container = action.container.render(ctx);
      await deps.engine.restart(container, action.stopTimeoutSeconds);
      return { detail: `restarted ${short(container)}` };
    }
    case 'lifecycle': {
      const container = action.container.render(ctx);
      const run = deps.lifecycle ?? ((c: string, m: string, s: AbortSignal, t: number) => runLabelMethod(deps.engine, c, m, s, t));
      return { detail: await run(container, action.method, signal, timeoutMs) };
    }
    case 'render': {
      if (!deps.render) throw new KibokoError('ACTION_FAILED', 'render: no template renderer is available here');
      const container = action.container?.render(ctx);
      return { detail: await deps.render(action, container, signal) };
    }
    case 'rollback': {
      if (!deps.rollback) throw new KibokoError('ACTION_FAILED', 'rollback: no deploy history is available here');
      const project = action.project.render(ctx);
      return { detail: await deps.rollback(project, action.to, signal) };
    }
  }
}

/** Runs `fn` with a time limit; a timeout is reported as TIMEOUT, an abort as CANCELLED. */
export async function withTimeout<T>(timeoutMs: number, parent: AbortSignal, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const off = onAbort(parent, () => controller.abort(new KibokoError('CANCELLED', `${what}: cancelled`)));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new KibokoError('TIMEOUT', `${what}: timed out after ${Math.round(timeoutMs / 100) / 10}s`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  const cancelled = new Promise<never>((_, reject) => {
    // The parent may have aborted it already, above.
    onAbort(controller.signal, () => reject(controller.signal.reason));
  });
  try {
    return await Promise.race([fn(controller.signal), timeout, cancelled]);
  } finally {
    clearTimeout(timer);
    off();
  }
}

/** Webhook URLs carry their secret in the path (Slack): never log more than the host. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? '/…' : '/'}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A lifecycle method as the `kiboko.method.<name>` label declares it (`["cmd", …]` JSON or a
 * plain command line split on spaces), run with exec; exit 0 is success.
 */
async function runLabelMethod(engine: Engine, container: string, method: string, signal: AbortSignal, timeoutMs: number): Promise<string> {
  const { runLifecycleMethod } = await import('./lifecycle.js');
  return runLifecycleMethod(engine, container, method, signal, timeoutMs);
}
