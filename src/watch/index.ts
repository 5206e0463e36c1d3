export { runWatchPass, watchedContainers, type WatchDeps, type Target } from './pass.js';
export type { WatchOptions } from './types.js';
export { newerTag } from './candidates.js';
export { WATCHTOWER_LABELS, settingsFromEnv, parseGoBool, parseNotificationUrl, type WatchtowerSettings, type NotificationTarget } from './watchtower.js';
export { summarize, type WatchItem, type WatchReport, type WatchEvent, type ItemStatus } from './types.js';
export { createWatchNotifier } from './notify.js';
export { nextRun, parseSchedule, type Schedule } from './schedule.js';
export { recoverContainerUpdates, undoContainerUpdate, WATCH_JOURNAL_KIND, type ContainerUpdateRecord, type UpdateRecoveryResult } from './recover.js';
