import { Option, type Command } from 'commander';
import { KibokoError } from '../common/errors.js';
import { collect, engineAction } from './command-options.js';

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
    .option('--config-file <file>', 'confd.toml with defaults for these flags (default /etc/confd/confd.toml, as confd; else <confdir>/confd.toml when present)')
    .option('--backend <name>', 'env, file or etcd (etcd v3; etcdv3 accepted) (default etcd)')
    .option('--node <url>', 'etcd endpoint, e.g. http://127.0.0.1:2379 (repeatable; default as confd: $ETCDCTL_PEERS, else http://127.0.0.1:4001; etcdv3: 127.0.0.1:2379)', collect)
    .option('--file <path>', 'file backend: a YAML or JSON file, or a folder of them (repeatable; later ones override)', collect)
    .option('--filter <glob>', 'file backend: file names to read in folders (default *)')
    .option('--prefix <prefix>', 'key prefix; replaces each resource’s prefix, as confd does')
    .option('--client-cert <file>', 'etcd: client certificate (PEM) for mutual TLS (env CONFD_CLIENT_CERT)')
    .option('--client-key <file>', 'etcd: client key (PEM) (env CONFD_CLIENT_KEY)')
    .option('--client-ca-keys <file>', 'etcd: CA bundle to verify the server (env CONFD_CLIENT_CAKEYS)')
    .option('--username <name>', 'etcd: user for password auth')
    .option('--password <password>', 'etcd: password (prefer env KIBOKO_ETCD_PASSWORD: flags show in ps)')
    .option('--onetime', 'render and apply once, then exit (exit 1 if anything failed); wins over --watch, as in confd')
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
  // confd's boolean flags take Go's `-flag=false`; these carry the false.
  for (const name of CONFD_BOOL_FLAGS) cmd.addOption(new Option(`--no-${name}`).hideHelp());
  engineAction(cmd, async (command) => (await import('./template.js')).runTemplateCommand(command));
}

/** confd's flags that `kiboko template` has (confd spells them Go-style: `-onetime`, `-backend=env`). */
export const CONFD_VALUE_FLAGS: ReadonlySet<string> = new Set(['confdir', 'config-file', 'backend', 'node', 'file', 'filter', 'prefix', 'client-cert', 'client-key', 'client-ca-keys', 'username', 'password', 'interval', 'log-level']);
export const CONFD_BOOL_FLAGS: ReadonlySet<string> = new Set(['onetime', 'watch', 'noop', 'sync-only']);
/** confd's flags kiboko does not implement, and why (a clear refusal rather than "unknown option"). */
const CONFD_REFUSED: Readonly<Record<string, string>> = {
  'app-id': 'kiboko reads env, file and etcd; not vault',
  'auth-token': 'kiboko reads env, file and etcd; not vault or consul',
  'auth-type': 'kiboko reads env, file and etcd; not vault',
  'basic-auth': 'for etcd use --username and --password',
  scheme: 'give the scheme in --node (http:// or https://)',
  'secret-keyring': 'encrypted values (crypt) are not supported',
  separator: 'the redis separator: redis is not a kiboko backend',
  'srv-domain': 'DNS SRV discovery is not supported: give --node',
  'srv-record': 'DNS SRV discovery is not supported: give --node',
  table: 'the dynamodb table: dynamodb is not a kiboko backend',
  'keep-stage-file': 'kiboko removes staged files always (a failed check leaves the destination untouched)',
};
const OTHER_COMMANDS = new Set(['chaos', 'deploy', 'units', 'build', 'examine', 'lifecycle', 'test', 'events', 'react', 'serve', 'doctor', 'help']);
const GO_TRUE = ['1', 't', 'true'];
const GO_FALSE = ['0', 'f', 'false'];

/**
 * confd is a Go program: its users write `-onetime -backend env -confdir ./conf`, `-backend=env`,
 * `-interval 60`, `--watch=false`. After `template`, rewrites Go's single-dash long flags (and
 * `--flag=true|false` for booleans, Go's spellings) into the `--flag` / `--no-flag` commander
 * understands; values are left as written, as is everything after `--`.
 */
export function normalizeConfdFlags(argv: readonly string[]): string[] {
  const at = argv.indexOf('template');
  // Only when `template` is the command (not a container or unit named so after another command).
  if (at < 0 || argv.slice(0, at).some((a) => OTHER_COMMANDS.has(a))) return [...argv];
  const out = argv.slice(0, at + 1);
  for (let i = at + 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    const name = m?.[1];
    if (!m || !name || (arg.startsWith('-') && !arg.startsWith('--') && name.length === 1)) {
      out.push(arg); // a value, an operand or a one-letter short flag (-j)
      continue;
    }
    const value = m[2];
    if (CONFD_REFUSED[name] !== undefined) {
      throw new KibokoError('INVALID_ARGUMENT', `confd's -${name} is not supported by kiboko template: ${CONFD_REFUSED[name]}`, { hint: 'see docs/compat.md (confd)' });
    }
    if (CONFD_BOOL_FLAGS.has(name)) {
      if (value === undefined) out.push(`--${name}`);
      else if (GO_TRUE.includes(value.toLowerCase())) out.push(`--${name}`);
      else if (GO_FALSE.includes(value.toLowerCase())) out.push(`--no-${name}`);
      else throw new KibokoError('INVALID_ARGUMENT', `invalid -${name} '${value}': expected true or false`, { hint: `write -${name} or -${name}=false` });
      continue;
    }
    if (CONFD_VALUE_FLAGS.has(name)) {
      if (value !== undefined) out.push(`--${name}=${value}`);
      else {
        out.push(`--${name}`);
        if (i + 1 < argv.length) out.push(argv[++i]!); // the value, whatever it looks like (Go takes the next word)
      }
      continue;
    }
    out.push(arg.startsWith('--') ? arg : `-${arg}`); // kiboko's own long flags, single-dash too (-container, -json)
  }
  return out;
}
