/**
 * The kinds of restore-journal entries chaos writes, in one small module: the recovery that runs
 * before every chaos command reads them without loading the fault modules (net, stress, proxy),
 * which it loads only when an entry of their kind is left to undo.
 */
export const JOURNAL_KINDS = {
  pause: 'pause',
  stopRestart: 'stop-restart',
  net: 'net',
  stress: 'stress',
  proxy: 'proxy',
} as const;
