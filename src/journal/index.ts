export { Journal, defaultStateDir, type JournalEntry, type NewEntry, type ClosedEntry } from './journal.js';
export { currentProcess, isAlive, processStartTime, type ProcessIdentity } from './process.js';
export { recoverEntries, type RecoveredEntry } from './recover.js';
