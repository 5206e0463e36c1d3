import { ENGINE_OPTIONS, flag, list, optional, value, type OptionsOf } from './command-options.js';
import { watchPassOptions } from './watch-options.js';

/** `kiboko serve`: the daemon's listeners, credentials, units, deploys, rules and watch. */
export const serveOptions = () => ({
  listen: value('--listen <host:port>', 'listen on TCP (e.g. 127.0.0.1:8555)'),
  socket: value('--socket <path>', 'listen on this unix socket (default: <state-dir>/kiboko.sock, opened with --listen too)'),
  tlsCert: value('--tls-cert <file>', 'serve HTTPS on --listen with this certificate (with --tls-key; half a TLS configuration is refused)'),
  tlsKey: value('--tls-key <file>', 'and this key'),
  tlsClientCa: value('--tls-client-ca <file>', 'accept TLS client certificates signed by this CA as a credential equal to the token (fleetctl --cert-file/--key-file)'),
  socketGroup: value('--socket-group <group>', "the unix sockets' group (name or gid): its members may use the API, mode 0660 (default: owner only, 0600); the socket needs no token, so this group is root-equivalent"),
  fleetSocket: optional('--fleet-socket [path]', "also serve the API on fleet's unix socket (default /var/run/fleet.sock), for fleetctl's default endpoint"),
  maxEventStreams: value('--max-event-streams <n>', 'concurrent GET /v1/events streams in all (default 2000)'),
  maxEventStreamsPerClient: value('--max-event-streams-per-client <n>', 'concurrent GET /v1/events streams per client address (default 1000)'),
  tokenFile: value('--token-file <file>', 'the bearer token (created with mode 0600 on first start, never printed; refused when others can read it; default <state-dir>/serve.token)'),
  allowHostMounts: optional('--allow-host-mounts [paths]', 'let units bind-mount host paths: any (no value), or only these comma-separated paths and what is below them (default: none — a bind of / or the engine socket is the host)'),
  allowAnyExecStart: flag('--allow-any-exec-start', 'accept units whose ExecStart is not a docker run line (they are stored but cannot run as containers)'),
  engine: value('--engine <docker|swarm>', 'run units as containers on this engine, or as Swarm services (default: Swarm when the engine is a manager)'),
  metadata: value('--metadata <key=value,...>', "this machine's fleet metadata, matched by units' MachineMetadata= (e.g. region=us-east-1,disk=ssd); on Swarm the machines are the nodes and their metadata the node labels"),
  project: list('--project <name=path>', 'deploy this project through the native API and the deploy hook: a compose file or folder, as deploy -f takes it (repeatable)'),
  deployConfig: value('--deploy-config <file>', 'YAML: projects (file, engine, per-service tag_policy) and webhook.secret / webhook.secret_file'),
  webhookSecretFile: value('--webhook-secret-file <file>', "the deploy hook's shared secret: requests signed with X-Hub-Signature-256 (HMAC-SHA256 of the body) need no bearer token"),
  rules: value('--rules <file>', "react to events with this rules file (as kiboko react does), with the daemon's deploy and chaos events too"),
  watch: flag('--watch', 'follow new images in the registry inside the daemon, as kiboko watch does (with the watch options below and WATCHTOWER_* environment): the --project projects and standalone containers; reports at GET /v1/watch/reports, a pass now with POST /v1/watch/run, events watch.* on /v1/events'),
  ...watchPassOptions(),
  ...ENGINE_OPTIONS,
});
export type ServeOptions = OptionsOf<ReturnType<typeof serveOptions>>;
