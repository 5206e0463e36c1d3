import type { Command } from 'commander';
import { actionOf } from './command-options.js';
import type { UnitsCommandName } from './handlers.js';

/** Where the daemon is and how to authenticate: accepted before and after the subcommand. */
function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'the daemon: http://HOST:PORT, https://HOST:PORT or unix:///PATH (env KIBOKO_ENDPOINT; default unix://<state-dir>/kiboko.sock)')
    .option('--token-file <file>', 'file holding the bearer token (default: env KIBOKO_TOKEN, else <state-dir>/serve.token)')
    .option('--ca-file <file>', 'CA certificate (PEM) that signed the daemon’s https certificate')
    .option('--request-timeout <duration>', 'time limit of each request (default 30s)')
    .option('--state-dir <dir>', 'the daemon’s state directory, for the default socket and token (env KIBOKO_STATE_DIR)')
    .option('-j, --json', 'NDJSON output: one record per unit, state, line or event');
}

const collectNothing = (c: Command) => c;

/**
 * Declares the `units` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation from `./units-run.js`.
 */
export function defineUnitsCommands(program: Command): void {
  const units = program
    .command('units')
    .description('fleetctl-like client of `kiboko serve`: submit, start, stop and destroy units, list them, read their files, status and container logs')
    .enablePositionalOptions();
  addClientOptions(units);

  const sub = (name: UnitsCommandName, args: string, description: string, build: (c: Command) => Command = collectNothing) => {
    const c = units.command(`${name} ${args}`.trim()).description(description);
    build(c);
    addClientOptions(c);
    return actionOf(c, async (command, positional) => (await import('./units-run.js')).runUnitsCommand(name, command, positional));
  };
  const blockAttempts = (c: Command) => c.option('--block-attempts <n>', 'checks (500 ms apart) before giving up waiting (default 120, about a minute)');
  const blocking = (c: Command) => blockAttempts(c.option('--no-block', 'do not wait until the units reach the state'));
  const replacing = (c: Command) => c.option('--replace', 'replace units whose contents differ from the local file');
  const listing = (c: Command, fields: string) => c.option('--fields <list>', `columns: ${fields}`).option('--no-legend', 'no column headers').option('-l, --full', 'no ellipsis: full hashes and machine ids');

  sub('submit', '<files...>', 'upload unit files (state inactive); the unit is named after the file; foo@1.service may come from template foo@.service', (c) =>
    c.option('--replace', 'replace units whose contents differ from the local file (they keep their desired state)'),
  );
  sub('load', '<units...>', 'schedule units (state loaded: container created, not started), submitting local files first as needed', (c) => replacing(blocking(c)));
  sub('start', '<units...>', 'start units (state launched: container running), submitting local files first as needed; waits for the outcome', (c) => replacing(blocking(c)));
  sub('stop', '<units...>', 'stop launched units (state loaded: the container stays, stopped, unless its docker run has --rm)', blocking);
  sub('restart', '<units...>', 'stop then start launched units (a loaded unit is started), waiting for each state', blockAttempts);
  sub('unload', '<units...>', 'unschedule units (state inactive: the container is removed, the unit stays)', blocking);
  sub('destroy', '<units...>', 'remove units and their containers; waits until the daemon reports them gone', blocking);
  sub('list-units', '', 'the state of units placed on a machine: UNIT MACHINE ACTIVE SUB', (c) => listing(c, 'unit, load, active, sub, machine, hash (default unit,machine,active,sub)'));
  sub('list-unit-files', '', 'every unit with its desired and current state: UNIT HASH DSTATE STATE TARGET', (c) =>
    listing(c, 'unit, hash, dstate, state, target, global, desc (default unit,hash,dstate,state,target)'),
  );
  sub('list-machines', '', 'the machines units run on: MACHINE IP METADATA', (c) => c.option('--no-legend', 'no column headers').option('-l, --full', 'full machine ids'));
  sub('cat', '<unit>', 'print the unit file as the daemon holds it');
  sub('status', '<units...>', "a unit's states, its container and its last log lines", (c) => c.option('-n, --lines <n>', 'log lines to show (default 10; 0: none)'));
  sub('journal', '<unit>', "the unit container's output (stdout and stderr)", (c) =>
    c
      .option('-n, --lines <n>', 'the last N lines (default 10)')
      .option('-f, --follow', 'keep printing new lines until Ctrl-C')
      .option('--timestamps', 'prefix each line with its time'),
  );
}
