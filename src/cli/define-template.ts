import type { Command } from 'commander';
import { addEngineOptions } from './program.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * Declares the `template` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation, e.g.
 * `process.exitCode = await (await import('./template.js')).run(command)`.
 */
export function defineTemplateCommands(program: Command): void {
  const cmd = program
    .command('template')
    .summary('render confd template resources from env, file or etcd; check, replace atomically, reload, restore on failure')
    .description(
      'Render confd-format template resources (<confdir>/conf.d/*.toml with templates/) from the env, file (YAML/JSON) or etcd v3 backend. ' +
        'A changed file is staged beside its destination, checked with check_cmd, renamed into place, and reload_cmd runs; ' +
        'a failing reload puts the previous file back and reloads again. With --container the files are written into running ' +
        'containers through the Engine API (check and reload run inside them; no agent in the image).',
    )
    .option('--confdir <dir>', 'confd folder with conf.d/ and templates/ (default /etc/confd)')
    .option('--config-file <file>', 'confd.toml with defaults for these flags (default <confdir>/confd.toml when present)')
    .option('--backend <name>', 'env, file or etcd (etcd v3; etcdv3 accepted) (default etcd)')
    .option('--node <url>', 'etcd endpoint, e.g. http://127.0.0.1:2379 (repeatable)', collect)
    .option('--file <path>', 'file backend: a YAML or JSON file, or a folder of them (repeatable; later ones override)', collect)
    .option('--filter <glob>', 'file backend: file names to read in folders (default *)')
    .option('--prefix <prefix>', 'key prefix; replaces each resource’s prefix, as confd does')
    .option('--client-cert <file>', 'etcd: client certificate (PEM) for mutual TLS (env CONFD_CLIENT_CERT)')
    .option('--client-key <file>', 'etcd: client key (PEM) (env CONFD_CLIENT_KEY)')
    .option('--client-ca-keys <file>', 'etcd: CA bundle to verify the server (env CONFD_CLIENT_CAKEYS)')
    .option('--username <name>', 'etcd: user for password auth')
    .option('--password <password>', 'etcd: password (prefer env KIBOKO_ETCD_PASSWORD: flags show in ps)')
    .option('--onetime', 'render and apply once, then exit (exit 1 if anything failed)')
    .option('--watch', 'watch the backend (etcd, file) and re-render on changes; runs until Ctrl-C/SIGTERM')
    .option('--interval <seconds>', 'poll the backend every interval (seconds, or a duration like 30s) (default 600)')
    .option('--wait <min[:max]>', 'with --watch: render after min without changes, at most max after the first (default max 4×min)')
    .option('--noop', 'print unified diffs of what would change; change nothing')
    .option('--sync-only', 'write files but skip check_cmd and reload_cmd')
    .option('--check-timeout <duration>', 'kill check_cmd after this long (default 30s)')
    .option('--reload-timeout <duration>', 'kill reload_cmd after this long (default 30s)')
    .option('--container <targets...>', "write into these running containers (names, IDs or 're2:<regex>') instead of host files")
    .option('--label <key=value>', 'with --container: only containers with this label (repeatable, AND)', collect)
    .option('--concurrency <n>', 'with --container: containers written at once (default 8)')
    .option('-j, --json', 'NDJSON events on stdout')
    .option('--log-level <level>', 'debug, info, warning, error (debug shows unchanged files and key changes)');
  addEngineOptions(cmd);
  cmd.action(async (_opts: unknown, command: Command) => {
    process.exitCode = await (await import('./template.js')).runTemplateCommand(command);
  });
}
