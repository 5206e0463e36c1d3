import { KibokoError } from '../common/errors.js';

// confd's command line (Go flags) rewritten for commander; kept apart from the command's definition
// so that main() can run it without loading the template command.
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
