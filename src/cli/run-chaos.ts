// The `kiboko chaos …` bundle's entry (dist/cli-chaos.cjs): only the chaos commands (see ./run.ts).
import { CHAOS_GROUP } from './define-chaos.js';
import type { RunResult } from './finished.js';
import { runWith } from './run-group.js';

export const run = (args: string[]): Promise<RunResult> => runWith(args, [CHAOS_GROUP]);
