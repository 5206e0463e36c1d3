import { errorMessage } from '../common/errors.js';
import type { WatchReport } from './types.js';
import { parseNotificationUrl, type NotificationTarget } from './watchtower.js';

export interface WatchNotifyOptions {
  /** Watchtower's shoutrrr URLs (slack://…, generic+https://…) or plain https:// webhooks. */
  urls?: readonly string[] | undefined;
  slackHook?: string | undefined;
  slackChannel?: string | undefined;
  webhookUrl?: string | undefined;
  /** Also notify passes where nothing was newer and nothing failed. */
  always?: boolean | undefined;
  timeoutMs?: number | undefined;
  fetchImpl?: typeof fetch | undefined;
}

/** One Slack line per pass, then one per image that moved. */
export function slackText(r: WatchReport): string {
  const head = `kiboko watch: ${r.checked} checked, ${r.newer} newer, ${r.updated} updated, ${r.rolledBack} rolled back, ${r.failed} failed`;
  const lines = r.items
    .filter((i) => i.newImage || i.status === 'failed')
    .map((i) => `• ${i.name}: ${i.status}${i.newImage ? ` ${i.image} → ${i.newImage}` : ''}${i.reason ? ` — ${i.reason}` : ''}`);
  return [head, ...lines.slice(0, 40), ...(lines.length > 40 ? [`… and ${lines.length - 40} more`] : [])].join('\n');
}

/**
 * Delivers each pass's report: Slack gets a text summary, webhooks the report as JSON
 * (`{source: 'kiboko', kind: 'watch-report', report}`). Delivery failures are warnings; they
 * never fail a pass.
 */
export function createWatchNotifier(options: WatchNotifyOptions, onWarning: (message: string) => void) {
  const targets: NotificationTarget[] = (options.urls ?? []).map(parseNotificationUrl);
  if (options.slackHook) targets.push({ kind: 'slack', url: options.slackHook, channel: options.slackChannel });
  if (options.webhookUrl) targets.push({ kind: 'webhook', url: options.webhookUrl });
  const doFetch = options.fetchImpl ?? fetch;
  return {
    targets,
    async notify(report: WatchReport): Promise<void> {
      if (!targets.length) return;
      if (!options.always && report.newer === 0 && report.failed === 0) return;
      await Promise.all(
        targets.map(async (t) => {
          const body = t.kind === 'slack' ? { text: slackText(report), username: 'kiboko', ...(t.channel ? { channel: t.channel } : {}) } : { source: 'kiboko', kind: 'watch-report', report };
          const where = new URL(t.url).host;
          try {
            const res = await doFetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
            await res.arrayBuffer().catch(() => undefined);
            if (!res.ok) onWarning(`notification to ${where} answered ${res.status}`);
          } catch (err) {
            onWarning(`notification to ${where} failed: ${errorMessage(err)}`);
          }
        }),
      );
    },
  };
}
