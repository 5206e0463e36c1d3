import { ENGINE_OPTIONS, flag, list, value, type OptionsOf } from './command-options.js';

/** `kiboko template`: confd's flags (its backends, modes and commands), plus --container. */
export const templateOptions = () => ({
  confdir: value('--confdir <dir>', 'confd folder with conf.d/ and templates/ (default /etc/confd)'),
  configFile: value('--config-file <file>', 'confd.toml with defaults for these flags (default /etc/confd/confd.toml, as confd; else <confdir>/confd.toml when present)'),
  backend: value('--backend <name>', 'env, file or etcd (etcd v3; etcdv3 accepted) (default etcd)'),
  node: list('--node <url>', 'etcd endpoint, e.g. http://127.0.0.1:2379 (repeatable; default as confd: $ETCDCTL_PEERS, else http://127.0.0.1:4001; etcdv3: 127.0.0.1:2379)'),
  file: list('--file <path>', 'file backend: a YAML or JSON file, or a folder of them (repeatable; later ones override)'),
  filter: value('--filter <glob>', 'file backend: file names to read in folders (default *)'),
  prefix: value('--prefix <prefix>', 'key prefix; replaces each resource’s prefix, as confd does'),
  clientCert: value('--client-cert <file>', 'etcd: client certificate (PEM) for mutual TLS (env CONFD_CLIENT_CERT)'),
  clientKey: value('--client-key <file>', 'etcd: client key (PEM) (env CONFD_CLIENT_KEY)'),
  clientCaKeys: value('--client-ca-keys <file>', 'etcd: CA bundle to verify the server (env CONFD_CLIENT_CAKEYS)'),
  username: value('--username <name>', 'etcd: user for password auth'),
  password: value('--password <password>', 'etcd: password (prefer env KIBOKO_ETCD_PASSWORD: flags show in ps)'),
  onetime: flag('--onetime', 'render and apply once, then exit (exit 1 if anything failed); wins over --watch, as in confd'),
  watch: flag('--watch', 'watch the backend (etcd, file) and re-render on changes; runs until Ctrl-C/SIGTERM'),
  interval: value('--interval <seconds>', 'poll the backend every interval (seconds, or a duration like 30s) (default 600)'),
  wait: value('--wait <min[:max]>', 'with --watch: render after min without changes, at most max after the first (default max 4×min)'),
  noop: flag('--noop', 'print unified diffs of what would change; change nothing'),
  syncOnly: flag('--sync-only', 'write files but skip check_cmd and reload_cmd'),
  checkTimeout: value('--check-timeout <duration>', 'kill check_cmd after this long (default 30s)'),
  reloadTimeout: value('--reload-timeout <duration>', 'kill reload_cmd after this long (default 30s)'),
  container: list('--container <targets...>', "write into these running containers (names, IDs or 're2:<regex>') instead of host files"),
  label: list('--label <key=value>', 'with --container: only containers with this label (repeatable, AND)'),
  concurrency: value('--concurrency <n>', 'with --container: containers written at once (default 8)'),
  json: flag('-j, --json', 'NDJSON events on stdout'),
  logLevel: value('--log-level <level>', 'debug, info, warning, error (debug shows unchanged files and key changes)'),
  ...ENGINE_OPTIONS,
});
export type TemplateOptions = OptionsOf<ReturnType<typeof templateOptions>>;
