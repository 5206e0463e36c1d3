import { Command } from 'commander';
import { VERSION } from '../common/version.js';
import { addEngineOptions, collect, engineAction } from './command-options.js';
import { defineChaosCommands } from './define-chaos.js';
import { defineDeployCommands } from './define-deploy.js';
import { defineEventsCommands } from './define-events.js';
import { definePackagesCommands } from './define-packages.js';
import { defineProxyCommands } from './define-proxy.js';
import { defineTemplateCommands } from './define-template.js';
import { defineUnitsCommands } from './define-units.js';
import { addWatchPassOptions, defineWatchCommands } from './define-watch.js';
import type { Handlers } from './handlers.js';

// What main, cli-docs and the tests take from here; each lives in the module of its own job.
export { normalizeBoolFlags } from './chaos-bool-flags.js';
export { mergedOptions } from './command-options.js';
export type { ActionHandler, ChaosCommandName, DeploySub, Handlers, NetemEffectName } from './handlers.js';

/**
 * The top-level commands, in groups as their modules define them (help lists them in this order).
 * `names` are the commands a group defines (a unit test checks them against the tree).
 */
export const COMMAND_GROUPS: readonly { names: readonly string[]; define: (program: Command, handlers: Handlers) => void }[] = [
  { names: ['chaos'], define: defineChaosCommands },
  { names: ['deploy'], define: defineDeployCommands },
  { names: ['units'], define: (p) => defineUnitsCommands(p) },
  { names: ['build', 'examine', 'lifecycle', 'test'], define: (p) => definePackagesCommands(p) },
  { names: ['template'], define: (p) => defineTemplateCommands(p) },
  { names: ['events', 'react'], define: (p) => defineEventsCommands(p) },
  { names: ['proxy'], define: (p) => defineProxyCommands(p) },
  { names: ['watch', 'registry'], define: (p) => defineWatchCommands(p) },
  { names: ['serve'], define: (p, h) => h.serve && defineServeCommand(p, h.serve) },
  { names: ['doctor'], define: (p, h) => defineDoctorCommand(p, h) },
];

/**
 * The whole command tree; with `only: NAME` (a top-level command) just the group that defines it
 * (and the global engine options): `kiboko chaos kill …` then skips defining the several hundred
 * options of the other commands, which every start would otherwise pay. An unknown name gets the
 * whole tree (for commander's "did you mean"); help lists everything, so main asks for the whole
 * tree whenever help is wanted.
 */
export function buildProgram(handlers: Handlers, options: { only?: string | undefined } = {}): Command {
  const program = new Command('kiboko')
    .description('Run Docker containers well: break them on purpose (chaos), ship them (deploys, the units daemon), check them (images as packages, tests) and keep them configured (templates, events).')
    .version(VERSION, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true);
  addEngineOptions(program);
  const only = options.only === undefined ? undefined : COMMAND_GROUPS.find((g) => g.names.includes(options.only!));
  for (const group of only ? [only] : COMMAND_GROUPS) group.define(program, handlers);
  return program;
}

/** `kiboko serve`: the daemon (only where main can run it). */
function defineServeCommand(program: Command, handler: NonNullable<Handlers['serve']>): void {
  const serve = program
    .command('serve')
    .description("run the daemon: fleet's v1 units API (units as containers), the deploy hook and kiboko's native API (deploys, chaos, events, metrics), behind a bearer token, over a unix socket and/or TCP")
    .option('--listen <host:port>', 'listen on TCP (e.g. 127.0.0.1:8555)')
    .option('--socket <path>', 'listen on this unix socket (default: <state-dir>/kiboko.sock, opened with --listen too)')
    .option('--tls-cert <file>', 'serve HTTPS on --listen with this certificate (with --tls-key; half a TLS configuration is refused)')
    .option('--tls-key <file>', 'and this key')
    .option('--tls-client-ca <file>', 'accept TLS client certificates signed by this CA as a credential equal to the token (fleetctl --cert-file/--key-file)')
    .option('--socket-group <group>', 'the unix sockets\' group (name or gid): its members may use the API, mode 0660 (default: owner only, 0600); the socket needs no token, so this group is root-equivalent')
    .option('--fleet-socket [path]', "also serve the API on fleet's unix socket (default /var/run/fleet.sock), for fleetctl's default endpoint")
    .option('--max-event-streams <n>', 'concurrent GET /v1/events streams in all (default 2000)')
    .option('--max-event-streams-per-client <n>', 'concurrent GET /v1/events streams per client address (default 1000)')
    .option('--token-file <file>', 'the bearer token (created with mode 0600 on first start, never printed; refused when others can read it; default <state-dir>/serve.token)')
    .option('--allow-host-mounts [paths]', "let units bind-mount host paths: any (no value), or only these comma-separated paths and what is below them (default: none — a bind of / or the engine socket is the host)")
    .option('--allow-any-exec-start', 'accept units whose ExecStart is not a docker run line (they are stored but cannot run as containers)')
    .option('--engine <docker|swarm>', 'run units as containers on this engine, or as Swarm services (default: Swarm when the engine is a manager)')
    .option('--metadata <key=value,...>', "this machine's fleet metadata, matched by units' MachineMetadata= (e.g. region=us-east-1,disk=ssd)")
    .option('--project <name=path>', 'deploy this project through the native API and the deploy hook: a compose file or folder, as deploy -f takes it (repeatable)', collect)
    .option('--deploy-config <file>', 'YAML: projects (file, engine, per-service tag_policy) and webhook.secret / webhook.secret_file')
    .option('--webhook-secret-file <file>', "the deploy hook's shared secret: requests signed with X-Hub-Signature-256 (HMAC-SHA256 of the body) need no bearer token")
    .option('--rules <file>', 'react to events with this rules file (as kiboko react does), with the daemon\'s deploy and chaos events too')
    .option('--watch', 'follow new images in the registry inside the daemon, as kiboko watch does (with the watch options below and WATCHTOWER_* environment): the --project projects and standalone containers; reports at GET /v1/watch/reports, a pass now with POST /v1/watch/run, events watch.* on /v1/events');
  addWatchPassOptions(serve);
  engineAction(serve, handler);
}

/** `kiboko doctor`: what the faults need, checked. */
function defineDoctorCommand(program: Command, handlers: Handlers): void {
  const doctor = program
    .command('doctor')
    .description('check the engine, privileges, kernel features (tc qdiscs, iptables matches), cgroups and helper images that faults need')
    .option('-j, --json', 'print the checks as JSON')
    .option('--strict', 'exit 1 when anything is missing');
  engineAction(doctor, handlers.doctor);
}
