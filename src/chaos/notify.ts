import { errorMessage } from '../common/errors.js';
import { describeAction } from './plan.js';
import type { ChaosEvent, LifecycleAction } from './types.js';

export interface NotifyOptions {
  /** Slack incoming-webhook URL (Pumba's --slackhook). */
  slackHook?: string | undefined;
  slackChannel?: string | undefined;
  /** Generic JSON webhook: every cycle summary and the run result are POSTed as JSON. */
  webhookUrl?: string | undefined;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/**
 * Turns chaos events into webhook posts: one per cycle (what was hit, how it went) and one at
 * the end. Delivery failures come back as warnings; they never fail the experiment.
 */
export function createNotifier(options: NotifyOptions, onWarning: (message: string) => void) {
  const doFetch = options.fetchImpl ?? fetch;
  const pending = new Set<Promise<void>>();
  let action: LifecycleAction | undefined;
  let runId = '';
  const post = (url: string, body: unknown, what: string) => {
    const p = doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    })
      .then((res) => {
        if (!res.ok) onWarning(`${what} webhook answered ${res.status} ${res.statusText}`);
      })
      .catch((err) => onWarning(`${what} webhook failed: ${errorMessage(err)}`))
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  const listener = (event: ChaosEvent) => {
    if (event.type === 'run-started') {
      action = event.action;
      runId = event.runId;
    }
    if (event.type !== 'cycle-finished' && event.type !== 'run-finished') return;
    if (options.webhookUrl) post(options.webhookUrl, { source: 'kiboko', runId, action, event }, 'notify');
    if (options.slackHook) {
      const what = action ? describeAction(action) : 'chaos';
      const text =
        event.type === 'cycle-finished'
          ? `kiboko chaos ${what}: cycle ${event.cycle}: ${event.ok} ok, ${event.failed} failed, ${event.gone} gone`
          : `kiboko chaos ${what}: finished after ${event.cycles} cycle(s): ${event.ok} ok, ${event.failed} failed${event.interrupted ? ' (interrupted)' : ''}`;
      post(options.slackHook, { channel: options.slackChannel ?? '#kiboko', username: 'kiboko', text }, 'slack');
    }
  };
  return {
    listener,
    /** Waits for posts still in flight (bounded by their timeout). */
    flush: async () => {
      await Promise.all([...pending]);
    },
  };
}
