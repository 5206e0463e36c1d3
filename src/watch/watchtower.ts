import { invalidArgument } from '../common/errors.js';

/** Watchtower's container labels, honoured unchanged. */
export const WATCHTOWER_LABELS = {
  enable: 'com.centurylinklabs.watchtower.enable',
  monitorOnly: 'com.centurylinklabs.watchtower.monitor-only',
  dependsOn: 'com.centurylinklabs.watchtower.depends-on',
  stopSignal: 'com.centurylinklabs.watchtower.stop-signal',
  scope: 'com.centurylinklabs.watchtower.scope',
  preUpdate: 'com.centurylinklabs.watchtower.lifecycle.pre-update',
  postUpdate: 'com.centurylinklabs.watchtower.lifecycle.post-update',
  preUpdateTimeout: 'com.centurylinklabs.watchtower.lifecycle.pre-update-timeout',
  postUpdateTimeout: 'com.centurylinklabs.watchtower.lifecycle.post-update-timeout',
  /** Watchtower marks its own container with this; it is never updated by itself. */
  self: 'com.centurylinklabs.watchtower',
  /** kiboko's own spellings (same meaning). */
  kibokoEnable: 'kiboko.watch.enable',
  kibokoMonitorOnly: 'kiboko.watch.monitor-only',
  kibokoMinAge: 'kiboko.watch.min-age',
} as const;

/** Go's strconv.ParseBool, which Watchtower (viper) uses for its environment. */
export function parseGoBool(value: string, name: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False', ''].includes(value)) return false;
  throw invalidArgument(`invalid ${name}=${JSON.stringify(value.slice(0, 40))}: expected true or false`, `e.g. ${name}=true`);
}

/** The watch flags a Watchtower environment sets (flags given on the command line win). */
export interface WatchtowerSettings {
  interval?: string | undefined;
  schedule?: string | undefined;
  cleanup?: boolean | undefined;
  labelEnable?: boolean | undefined;
  monitorOnly?: boolean | undefined;
  includeStopped?: boolean | undefined;
  reviveStopped?: boolean | undefined;
  runOnce?: boolean | undefined;
  noPull?: boolean | undefined;
  stopTimeout?: string | undefined;
  scope?: string | undefined;
  disableContainers?: string[] | undefined;
  lifecycleHooks?: boolean | undefined;
  notificationUrl?: string[] | undefined;
  slackHook?: string | undefined;
  httpApiUpdate?: boolean | undefined;
  httpApiToken?: string | undefined;
  httpApiPeriodicPolls?: boolean | undefined;
  registryUser?: string | undefined;
  registryPassword?: string | undefined;
}

/**
 * Pure: Watchtower's environment variables → watch settings. `WATCHTOWER_POLL_INTERVAL` is in
 * seconds, `WATCHTOWER_SCHEDULE` a 6-field cron (seconds first), `WATCHTOWER_TIMEOUT` a Go
 * duration, `WATCHTOWER_NOTIFICATION_URL` space-separated shoutrrr URLs; REPO_USER/REPO_PASS
 * are the registry credentials.
 */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): WatchtowerSettings {
  const s: WatchtowerSettings = {};
  const bool = (name: string) => (env[name] !== undefined ? parseGoBool(env[name]!, name) : undefined);
  const set = <K extends keyof WatchtowerSettings>(k: K, v: WatchtowerSettings[K]) => {
    if (v !== undefined) s[k] = v;
  };
  const poll = env.WATCHTOWER_POLL_INTERVAL;
  if (poll !== undefined) {
    if (!/^\d+$/.test(poll.trim())) throw invalidArgument(`invalid WATCHTOWER_POLL_INTERVAL=${JSON.stringify(poll.slice(0, 40))}: expected seconds`, 'e.g. WATCHTOWER_POLL_INTERVAL=300');
    s.interval = `${poll.trim()}s`;
  }
  set('schedule', env.WATCHTOWER_SCHEDULE || undefined);
  set('cleanup', bool('WATCHTOWER_CLEANUP'));
  set('labelEnable', bool('WATCHTOWER_LABEL_ENABLE'));
  set('monitorOnly', bool('WATCHTOWER_MONITOR_ONLY'));
  set('includeStopped', bool('WATCHTOWER_INCLUDE_STOPPED'));
  set('reviveStopped', bool('WATCHTOWER_REVIVE_STOPPED'));
  set('runOnce', bool('WATCHTOWER_RUN_ONCE'));
  set('noPull', bool('WATCHTOWER_NO_PULL'));
  set('lifecycleHooks', bool('WATCHTOWER_LIFECYCLE_HOOKS'));
  set('httpApiUpdate', bool('WATCHTOWER_HTTP_API_UPDATE'));
  set('httpApiPeriodicPolls', bool('WATCHTOWER_HTTP_API_PERIODIC_POLLS'));
  set('httpApiToken', env.WATCHTOWER_HTTP_API_TOKEN || undefined);
  set('stopTimeout', env.WATCHTOWER_TIMEOUT || undefined);
  set('scope', env.WATCHTOWER_SCOPE || undefined);
  if (env.WATCHTOWER_DISABLE_CONTAINERS) s.disableContainers = env.WATCHTOWER_DISABLE_CONTAINERS.split(/[\s,]+/).filter(Boolean);
  const urls = (env.WATCHTOWER_NOTIFICATION_URL ?? '').split(/\s+/).filter(Boolean);
  if (urls.length) s.notificationUrl = urls;
  set('slackHook', env.WATCHTOWER_NOTIFICATION_SLACK_HOOK_URL || undefined);
  set('registryUser', env.REPO_USER || undefined);
  set('registryPassword', env.REPO_PASS || undefined);
  return s;
}

/** Where a shoutrrr notification URL (or a plain https URL) posts, and in which shape. */
export type NotificationTarget = { kind: 'slack'; url: string; channel?: string | undefined } | { kind: 'webhook'; url: string };

/**
 * Pure: the shoutrrr URLs kiboko can deliver — `slack://hook:T/B/X@channel` or
 * `slack://T/B/X` (incoming webhook), `generic+https://host/path` / `generic://host/path`
 * (JSON POST), plain `https://…` (JSON POST). Others are refused with the list.
 */
export function parseNotificationUrl(raw: string): NotificationTarget {
  const u = raw.trim();
  if (/^https?:\/\//i.test(u)) return { kind: 'webhook', url: u };
  const generic = /^generic(\+https?)?:\/\/(.+)$/i.exec(u);
  if (generic) {
    const scheme = generic[1] ? generic[1].slice(1).toLowerCase() : 'https';
    return { kind: 'webhook', url: `${scheme}://${generic[2]}` };
  }
  const slack = /^slack:\/\/(?:hook:)?([^@?]+?)(?:@([^?]+))?(?:\?.*)?$/i.exec(u);
  if (slack) {
    const token = slack[1]!.replace(/^[^:]*:(?=[A-Z0-9]+\/)/, '');
    const parts = token.split('/');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw invalidArgument(`invalid slack notification URL: expected slack://hook:T…/B…/X…[@channel]`, 'copy the three parts of your Slack incoming-webhook URL');
    return { kind: 'slack', url: `https://hooks.slack.com/services/${parts.join('/')}`, ...(slack[2] ? { channel: slack[2] } : {}) };
  }
  const scheme = /^([a-z0-9+.-]+):/i.exec(u)?.[1] ?? u.slice(0, 20);
  throw invalidArgument(`notification URL scheme '${scheme}' is not supported`, 'kiboko delivers slack://…, generic+https://… and plain https:// webhooks');
}
