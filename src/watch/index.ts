export { runWatchPass, type WatchDeps } from './pass.js';
export type { WatchOptions } from './types.js';
export { settingsFromEnv } from './watchtower.js';
export { type WatchItem, type WatchReport, type WatchEvent } from './types.js';
export { createWatchNotifier } from './notify.js';
export { nextRun, parseSchedule, type Schedule } from './schedule.js';
export { recoverContainerUpdates } from './recover.js';
