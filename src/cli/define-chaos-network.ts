import { Option, type Command } from 'commander';
import { chaosCommand, iptablesImageOption, limitOption, NET_SHORTS, pullHelperOption } from './chaos-command.js';
import { collect } from './command-options.js';
import type { Handlers, NetemEffectName } from './handlers.js';

/** The network faults of `kiboko chaos`: netem, iptables, partition, proxy, delay and rate, in the order help lists them. */
export function addNetworkCommands(chaos: Command, handlers: Handlers): void {
  addNetemCommands(chaos, handlers);
  addIptablesCommands(chaos, handlers);
  addPartitionCommand(chaos, handlers);
  addProxyFaultCommands(chaos, handlers);
  addRateCommand(chaos, handlers);
}

/** netem's parent flags (Pumba's), accepted before the effect and, in long form, after it. */
function addNetemParent(cmd: Command, short: boolean): Command {
  return cmd
    .option(short ? '-d, --duration <duration>' : '--duration <duration>', 'how long the fault lasts (required), e.g. 30s')
    .option(short ? '-i, --interface <name>' : '--interface <name>', 'network interface in the target (default eth0)')
    .option(short ? '-t, --target <ip|cidr|container>' : '--target <ip|cidr|container>', 'only traffic to this address, CIDR or container (repeatable)', collect)
    .option('--egress-port <ports>', 'only traffic from these local ports (comma-separated, repeatable)', collect)
    .option('--ingress-port <ports>', 'only traffic to these ports (comma-separated, repeatable)', collect)
    .option('--tc-image <image>', 'helper image with tc (default: nsenter as root, else kiboko/nettools:local)')
    .addOption(pullHelperOption())
    .addOption(limitOption(false));
}

function addIptablesParent(cmd: Command, short: boolean): Command {
  return cmd
    .option(short ? '-d, --duration <duration>' : '--duration <duration>', 'how long the fault lasts (required), e.g. 30s')
    .option(short ? '-i, --interface <name>' : '--interface <name>', 'input interface to match (default eth0)')
    .option(short ? '-p, --protocol <protocol>' : '--protocol <protocol>', 'any, tcp, udp or icmp (default any)')
    .option(short ? '-s, --source <cidr|container>' : '--source <cidr|container>', 'only packets from these (repeatable or comma-separated)', collect)
    .addOption(new Option('--src <cidr|container>').hideHelp().argParser(collect))
    .option('--destination <cidr|container>', 'only packets to these (repeatable or comma-separated)', collect)
    .addOption(new Option('--dest <cidr|container>').hideHelp().argParser(collect))
    .option('--src-port <ports>', 'only these source ports (tcp/udp; comma-separated)', collect)
    .addOption(new Option('--sport <ports>').hideHelp().argParser(collect))
    .option('--dst-port <ports>', 'only these destination ports (tcp/udp; comma-separated)', collect)
    .addOption(new Option('--dport <ports>').hideHelp().argParser(collect))
    .addOption(iptablesImageOption())
    .addOption(pullHelperOption())
    .addOption(limitOption(false));
}

function addNetemCommands(chaos: Command, handlers: Handlers) {
  const netem = chaos
    .command('netem')
    .description('network emulation with tc netem (egress): delay, loss, rate, duplicate, corrupt — restored after --duration')
    .enablePositionalOptions();
  addNetemParent(netem, true);
  const effect = (name: NetemEffectName, summary: string, build: (c: Command) => void) =>
    chaosCommand(netem, `netem:${name}`, summary, handlers, { ...NET_SHORTS, j: false }, (c) => {
      build(c);
      addNetemParent(c, false);
    });
  effect('delay', 'delay egress packets', (c) =>
    c
      .option('-t, --time <ms>', 'delay in ms (default 100)')
      .option('-j, --jitter <ms>', 'random variation in ms (default 10)')
      .option('-c, --correlation <percent>', 'correlation with the previous delay (default 20)')
      .option('-d, --distribution <name>', 'uniform, normal, pareto or paretonormal'),
  );
  effect('loss', 'drop egress packets at random (Bernoulli)', (c) =>
    c.option('-p, --percent <percent>', 'loss percentage (default 0)').option('-c, --correlation <percent>', 'correlation (default 0)'),
  );
  effect('loss-state', 'drop packets with a 4-state Markov model', (c) =>
    c
      .option('--p13 <percent>', 'default 0')
      .option('--p31 <percent>', 'default 100')
      .option('--p32 <percent>', 'default 0')
      .option('--p23 <percent>', 'default 100')
      .option('--p14 <percent>', 'default 0'),
  );
  effect('loss-gemodel', 'drop packets with the Gilbert-Elliott model', (c) =>
    c
      .option('-p, --pg <percent>', 'good→bad transition probability (default 0)')
      .option('-r, --pb <percent>', 'bad→good transition probability (default 100)')
      .option('--one-h <percent>', '1 - loss in the bad state (default 100)')
      .option('--one-k <percent>', 'loss in the good state (default 0)'),
  );
  effect('rate', 'limit egress bandwidth with netem (falls back to tbf/htb when the kernel has no netem)', (c) =>
    c
      .option('-r, --rate <rate>', 'e.g. 100kbit, 1mbit (default 100kbit)')
      .option('-p, --packetoverhead <bytes>', 'default 0')
      .option('-s, --cellsize <bytes>', 'default 0')
      .option('-c, --celloverhead <bytes>', 'default 0'),
  );
  // duplicate and corrupt take the same two numbers.
  const percentAndCorrelation = (c: Command) => c.option('-p, --percent <percent>', 'default 0').option('-c, --correlation <percent>', 'default 0');
  effect('duplicate', 'duplicate egress packets', percentAndCorrelation);
  effect('corrupt', 'corrupt egress packets', percentAndCorrelation);
  effect('combine', 'several netem effects at once on one interface', (c) =>
    c
      .option('--delay-time <ms>', 'delay in ms')
      .option('--delay-jitter <ms>', 'delay jitter in ms (default 0)')
      .option('--delay-correlation <percent>', 'default 0')
      .option('--delay-distribution <name>', 'uniform, normal, pareto or paretonormal')
      .option('--loss-percent <percent>', 'random loss percentage')
      .option('--loss-correlation <percent>', 'default 0')
      .option('--rate-value <rate>', 'bandwidth, e.g. 1mbit')
      .option('--duplicate-percent <percent>', 'duplicate percentage')
      .option('--duplicate-correlation <percent>', 'default 0')
      .option('--corrupt-percent <percent>', 'corrupt percentage')
      .option('--corrupt-correlation <percent>', 'default 0'),
  );

}

function addIptablesCommands(chaos: Command, handlers: Handlers) {
  const iptables = chaos
    .command('iptables')
    .description('packet loss on ingress with iptables (tagged rules, exact teardown) — restored after --duration')
    .enablePositionalOptions();
  addIptablesParent(iptables, true);
  chaosCommand(iptables, 'iptables:loss', 'drop incoming packets (random probability or every nth)', handlers, NET_SHORTS, (c) => {
    c.option('--mode <mode>', 'random or nth (default random)')
      .option('--probability <p>', 'random mode: drop probability in (0, 1]')
      .option('--every <n>', 'nth mode: drop one packet in every n')
      .option('--packet <n>', 'nth mode: which one (0 ≤ packet < every; default 0)');
    addIptablesParent(c, false);
  });
}

function addPartitionCommand(chaos: Command, handlers: Handlers) {
  chaosCommand(chaos, 'partition', 'cut containers off from named peers or CIDRs, both directions, for a duration', handlers, NET_SHORTS, (c) =>
    c
      .option('-d, --duration <duration>', 'how long the partition lasts (required)')
      .option('--peer <container|cidr>', 'a peer to cut off (repeatable or comma-separated)', collect)
      .option('--direction <to|from|both>', 'to: the target cannot open connections to the peers; from: the peers cannot open connections to the target; both (default): all traffic')
      .addOption(iptablesImageOption())
      .addOption(pullHelperOption())
      .addOption(limitOption()),
  );
}

function addRateCommand(chaos: Command, handlers: Handlers) {
  chaosCommand(chaos, 'rate', 'limit egress bandwidth with tc tbf/htb (no netem needed)', handlers, NET_SHORTS, (c) =>
    c
      .option('-d, --duration <duration>', 'how long the limit lasts (required)')
      .option('-r, --rate <rate>', 'bandwidth, e.g. 1mbit, 500kbit (required)')
      .option('--interface <name>', 'network interface in the target (default eth0)')
      .option('-t, --target <ip|cidr|container>', 'only traffic to this address, CIDR or container (repeatable)', collect)
      .option('--egress-port <ports>', 'only traffic from these local ports', collect)
      .option('--ingress-port <ports>', 'only traffic to these ports', collect)
      .option('--tc-image <image>', 'helper image with tc')
      .addOption(pullHelperOption())
      .addOption(limitOption()),
  );
}

/** `chaos proxy` and `chaos delay`: transparent proxy faults in the target's namespace (no kernel module needed). */
function addProxyFaultCommands(chaos: Command, handlers: Handlers) {
  const helperFlags = (c: Command) =>
    c
      .option('--proxy-image <image>', 'run the proxy in a helper container from this image (default: nsenter as root beside a local engine, else kiboko/proxy built from this host’s node)')
      .option('--helper', 'run the proxy in a helper container even when nsenter is possible')
      .option('--iptables-image <image>', 'helper image with iptables for the redirect rules (default: nsenter as root, else kiboko/nettools:local)')
      .option('--pull-image', 'pull the helper images before use')
      .addOption(limitOption());
  chaosCommand(chaos, 'proxy', "put a fault proxy in the target's network namespace and redirect its traffic through it (toxiproxy toxics, HTTP faults), for a duration", handlers, NET_SHORTS, (c) =>
    helperFlags(
      c
        .option('-d, --duration <duration>', 'how long the fault lasts (required)')
        .option('--port <ports>', 'incoming: connections to these container ports (repeatable or comma-separated)', collect)
        .option('--to <host[:port]>', 'outgoing: connections to this address, CIDR or container (and port; :PORT for any address) (repeatable)', collect)
        .option('--toxic <type[:key=value,...]>', 'a toxiproxy toxic: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data; keys are its attributes plus stream, toxicity, name (repeatable); down: connections refused', collect)
        .option('--latency <duration>', 'shorthand for a latency toxic (ms or a duration)')
        .option('--jitter <duration>', 'with --latency: ± jitter')
        .option('--stream <upstream|downstream>', 'with --latency: which stream (default downstream: towards the client)')
        .option('--toxicity <p>', 'with --latency: probability per connection, 0-1 (default 1)')
        .option('--http-abort <status>', 'HTTP: answer matching requests with this status instead of passing them')
        .option('--http-delay <duration>', 'HTTP: hold matching requests this long')
        .option('--http-method <method>', 'HTTP: only this method')
        .option('--http-path <glob|re2:regex>', "HTTP: only paths matching (e.g. '/api/*'; the query is not part of the path)")
        .option('--http-header <name: glob>', 'HTTP: only requests with this header value (repeatable, all must match)', collect)
        .option('--http-percent <n>', 'HTTP: only this share of matching requests, 0-100')
        .option('--http-first <n>', 'HTTP: only the first N matching requests, then pass them')
        .option('--http-body <text>', 'HTTP abort: the response body')
        .option('--http-response-header <name: value>', 'HTTP abort: a response header (repeatable)', collect),
    ),
  );
  chaosCommand(chaos, 'delay', 'delay traffic: netem when the kernel has it, else the transparent proxy (it says which)', handlers, { ...NET_SHORTS, j: false }, (c) =>
    helperFlags(
      c
        .option('-d, --duration <duration>', 'how long the delay lasts (required)')
        .option('-t, --time <ms>', 'delay in ms (default 100)')
        .option('-j, --jitter <ms>', '± jitter in ms (default 0)')
        .option('--port <ports>', 'only responses from these container ports (repeatable; needed without netem)', collect)
        .option('--to <host[:port]>', 'only connections to this address, CIDR or container (and port) (repeatable)', collect)
        .option('--tc-image <image>', 'helper image with tc (netem mode)'),
    ),
  );
}
