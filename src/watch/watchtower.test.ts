import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { slackText } from './notify.js';
import { summarize } from './types.js';
import { parseGoBool, parseNotificationUrl, settingsFromEnv } from './watchtower.js';

describe('Watchtower environment', () => {
  it('maps its variables as Watchtower reads them', () => {
    expect(
      settingsFromEnv({
        WATCHTOWER_POLL_INTERVAL: '300',
        WATCHTOWER_CLEANUP: 'true',
        WATCHTOWER_LABEL_ENABLE: '1',
        WATCHTOWER_MONITOR_ONLY: 'False',
        WATCHTOWER_INCLUDE_STOPPED: 't',
        WATCHTOWER_NOTIFICATION_URL: 'slack://hook:T000/B000/XXX@ops generic+https://example.test/hook',
        WATCHTOWER_HTTP_API_UPDATE: 'true',
        WATCHTOWER_HTTP_API_TOKEN: 'tok',
        WATCHTOWER_DISABLE_CONTAINERS: 'a,b c',
        REPO_USER: 'ci',
        REPO_PASS: 'pw',
      }),
    ).toEqual({
      interval: '300s',
      cleanup: true,
      labelEnable: true,
      monitorOnly: false,
      includeStopped: true,
      notificationUrl: ['slack://hook:T000/B000/XXX@ops', 'generic+https://example.test/hook'],
      httpApiUpdate: true,
      httpApiToken: 'tok',
      disableContainers: ['a', 'b', 'c'],
      registryUser: 'ci',
      registryPassword: 'pw',
    });
    expect(settingsFromEnv({ WATCHTOWER_SCHEDULE: '0 0 4 * * *' })).toEqual({ schedule: '0 0 4 * * *' });
    expect(() => settingsFromEnv({ WATCHTOWER_POLL_INTERVAL: '5m' })).toThrow(KibokoError);
    expect(() => parseGoBool('yes', 'WATCHTOWER_CLEANUP')).toThrow(/expected true or false/);
  });

  it('delivers slack and generic shoutrrr URLs and refuses the rest by name', () => {
    expect(parseNotificationUrl('slack://hook:T000/B000/XXX@ops')).toEqual({ kind: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXX', channel: 'ops' });
    expect(parseNotificationUrl('slack://T000/B000/XXX')).toEqual({ kind: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXX' });
    expect(parseNotificationUrl('generic+http://127.0.0.1:9/x')).toEqual({ kind: 'webhook', url: 'http://127.0.0.1:9/x' });
    expect(parseNotificationUrl('https://example.test/x')).toEqual({ kind: 'webhook', url: 'https://example.test/x' });
    expect(() => parseNotificationUrl('telegram://token@telegram')).toThrow(/scheme 'telegram' is not supported/);
  });

  it('summarizes a pass for Slack', () => {
    const r = summarize(
      [
        { kind: 'service', name: 'p/web', image: 'r/app:58-develop', status: 'updated', newImage: 'r/app:100-develop' },
        { kind: 'container', name: 'db', image: 'postgres:16', status: 'up-to-date' },
      ],
      0,
      1500,
      { requests: 4, failed: 0, retries: 0, tokens: 1 },
    );
    expect(r).toMatchObject({ checked: 2, newer: 1, updated: 1, failed: 0, ms: 1500 });
    expect(slackText(r)).toBe('kiboko watch: 2 checked, 1 newer, 1 updated, 0 rolled back, 0 failed\n• p/web: updated r/app:58-develop → r/app:100-develop');
  });
});
