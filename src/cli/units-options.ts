import { flag, value, type EveryOptionOf, type OptionsOf, type OptionTable } from './command-options.js';
import type { UnitsCommandName } from './command-names.js';

/** The option tables of `kiboko units` (fleetctl's names and flags). */

/** Where the daemon is and how to authenticate: accepted before and after the subcommand. */
export const clientOptions = () => ({
  endpoint: value('--endpoint <url>', 'the daemon: http://HOST:PORT, https://HOST:PORT or unix:///PATH (env KIBOKO_ENDPOINT; default unix://<state-dir>/kiboko.sock)'),
  tokenFile: value('--token-file <file>', 'file holding the bearer token (default: env KIBOKO_TOKEN, else <state-dir>/serve.token)'),
  caFile: value('--ca-file <file>', 'CA certificate (PEM) that signed the daemon’s https certificate'),
  requestTimeout: value('--request-timeout <duration>', 'time limit of each request (default 30s)'),
  stateDir: value('--state-dir <dir>', 'the daemon’s state directory, for the default socket and token (env KIBOKO_STATE_DIR)'),
  json: flag('-j, --json', 'NDJSON output: one record per unit, state, line or event'),
});

const blockAttempts = { blockAttempts: value('--block-attempts <n>', 'checks (500 ms apart) before giving up waiting (default 120, about a minute)') };
const blocking = { block: flag('--no-block', 'do not wait until the units reach the state'), ...blockAttempts };
const replacing = { ...blocking, replace: flag('--replace', 'replace units whose contents differ from the local file') };
const listing = (fields: string) => ({
  fields: value('--fields <list>', `columns: ${fields}`),
  legend: flag('--no-legend', 'no column headers'),
  full: flag('-l, --full', 'no ellipsis: full hashes and machine ids'),
});

/** Each command's own options (the client options follow them). */
export const unitsTables = () => ({
  submit: { replace: flag('--replace', 'replace units whose contents differ from the local file (they keep their desired state)') },
  load: replacing,
  start: replacing,
  stop: blocking,
  restart: blockAttempts,
  unload: blocking,
  destroy: blocking,
  'list-units': listing('unit, load, active, sub, machine, hash (default unit,machine,active,sub)'),
  'list-unit-files': listing('unit, hash, dstate, state, target, global, desc (default unit,hash,dstate,state,target)'),
  'list-machines': { legend: flag('--no-legend', 'no column headers'), full: flag('-l, --full', 'full machine ids') },
  cat: {},
  status: { lines: value('-n, --lines <n>', 'log lines to show (default 10; 0: none)') },
  journal: {
    lines: value('-n, --lines <n>', 'the last N lines (default 10)'),
    follow: flag('-f, --follow', 'keep printing new lines until Ctrl-C'),
    timestamps: flag('--timestamps', 'prefix each line with its time'),
  },
} satisfies Record<UnitsCommandName, OptionTable>);

/** Every option some units command reads: the commands share their helpers, and each one's own type is a part of this one. */
export type UnitsOptions = OptionsOf<ReturnType<typeof clientOptions>> & EveryOptionOf<ReturnType<typeof unitsTables>>;
export type ClientOptions = OptionsOf<ReturnType<typeof clientOptions>>;
