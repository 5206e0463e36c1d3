// The `kiboko deploy …` bundle's entry (dist/cli-deploy.cjs): only the deploy commands (see ./run.ts).
import { DEPLOY_GROUP } from './define-deploy.js';
import type { RunResult } from './finished.js';
import { runWith } from './run-group.js';

export const run = (args: string[]): Promise<RunResult> => runWith(args, [DEPLOY_GROUP]);
