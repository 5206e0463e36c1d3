export { Journal, defaultStateDir, type JournalEntry, type NewEntry, type ClosedEntry } from './journal.js';
export { currentProcess, isAlive, type ProcessIdentity } from './process.js';
