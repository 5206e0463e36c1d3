import { flag, list, value } from './command-options.js';
import { durationOption, iptablesImageOption, limitOption, pullHelperOption } from './chaos-options.js';

/** The option tables of the network faults: netem, iptables, partition, proxy, delay and rate. */

/** netem's parent flags (Pumba's), accepted before the effect and, in long form, after it. */
export const netemParent = (short: boolean) => ({
  duration: durationOption('how long the fault lasts (required), e.g. 30s', short),
  interface: value(short ? '-i, --interface <name>' : '--interface <name>', 'network interface in the target (default eth0)'),
  target: list(short ? '-t, --target <ip|cidr|container>' : '--target <ip|cidr|container>', 'only traffic to this address, CIDR or container (repeatable)'),
  egressPort: list('--egress-port <ports>', 'only traffic from these local ports (comma-separated, repeatable)'),
  ingressPort: list('--ingress-port <ports>', 'only traffic to these ports (comma-separated, repeatable)'),
  tcImage: value('--tc-image <image>', 'helper image with tc (default: nsenter as root, else kiboko/nettools:local)'),
  pullImage: pullHelperOption(),
  limit: limitOption(false),
});

/** iptables' parent flags, as netem's: before the command and, in long form, after it. */
export const iptablesParent = (short: boolean) => ({
  duration: durationOption('how long the fault lasts (required), e.g. 30s', short),
  interface: value(short ? '-i, --interface <name>' : '--interface <name>', 'input interface to match (default eth0)'),
  protocol: value(short ? '-p, --protocol <protocol>' : '--protocol <protocol>', 'any, tcp, udp or icmp (default any)'),
  source: list(short ? '-s, --source <cidr|container>' : '--source <cidr|container>', 'only packets from these (repeatable or comma-separated)'),
  src: list('--src <cidr|container>', '', { hidden: true }),
  destination: list('--destination <cidr|container>', 'only packets to these (repeatable or comma-separated)'),
  dest: list('--dest <cidr|container>', '', { hidden: true }),
  srcPort: list('--src-port <ports>', 'only these source ports (tcp/udp; comma-separated)'),
  sport: list('--sport <ports>', '', { hidden: true }),
  dstPort: list('--dst-port <ports>', 'only these destination ports (tcp/udp; comma-separated)'),
  dport: list('--dport <ports>', '', { hidden: true }),
  iptablesImage: iptablesImageOption(),
  pullImage: pullHelperOption(),
  limit: limitOption(false),
});

/** duplicate and corrupt take the same two numbers. */
const percentAndCorrelation = {
  percent: value('-p, --percent <percent>', 'default 0'),
  correlation: value('-c, --correlation <percent>', 'default 0'),
};

/** Each netem effect's own flags (the parent's follow them). */
export const netemEffectTables = () => ({
  delay: {
    time: value('-t, --time <ms>', 'delay in ms (default 100)'),
    jitter: value('-j, --jitter <ms>', 'random variation in ms (default 10)'),
    correlation: value('-c, --correlation <percent>', 'correlation with the previous delay (default 20)'),
    distribution: value('-d, --distribution <name>', 'uniform, normal, pareto or paretonormal'),
  },
  loss: {
    percent: value('-p, --percent <percent>', 'loss percentage (default 0)'),
    correlation: value('-c, --correlation <percent>', 'correlation (default 0)'),
  },
  'loss-state': {
    p13: value('--p13 <percent>', 'default 0'),
    p31: value('--p31 <percent>', 'default 100'),
    p32: value('--p32 <percent>', 'default 0'),
    p23: value('--p23 <percent>', 'default 100'),
    p14: value('--p14 <percent>', 'default 0'),
  },
  'loss-gemodel': {
    pg: value('-p, --pg <percent>', 'good→bad transition probability (default 0)'),
    pb: value('-r, --pb <percent>', 'bad→good transition probability (default 100)'),
    oneH: value('--one-h <percent>', '1 - loss in the bad state (default 100)'),
    oneK: value('--one-k <percent>', 'loss in the good state (default 0)'),
  },
  rate: {
    rate: value('-r, --rate <rate>', 'e.g. 100kbit, 1mbit (default 100kbit)'),
    packetoverhead: value('-p, --packetoverhead <bytes>', 'default 0'),
    cellsize: value('-s, --cellsize <bytes>', 'default 0'),
    celloverhead: value('-c, --celloverhead <bytes>', 'default 0'),
  },
  duplicate: percentAndCorrelation,
  corrupt: percentAndCorrelation,
  combine: {
    delayTime: value('--delay-time <ms>', 'delay in ms'),
    delayJitter: value('--delay-jitter <ms>', 'delay jitter in ms (default 0)'),
    delayCorrelation: value('--delay-correlation <percent>', 'default 0'),
    delayDistribution: value('--delay-distribution <name>', 'uniform, normal, pareto or paretonormal'),
    lossPercent: value('--loss-percent <percent>', 'random loss percentage'),
    lossCorrelation: value('--loss-correlation <percent>', 'default 0'),
    rateValue: value('--rate-value <rate>', 'bandwidth, e.g. 1mbit'),
    duplicatePercent: value('--duplicate-percent <percent>', 'duplicate percentage'),
    duplicateCorrelation: value('--duplicate-correlation <percent>', 'default 0'),
    corruptPercent: value('--corrupt-percent <percent>', 'corrupt percentage'),
    corruptCorrelation: value('--corrupt-correlation <percent>', 'default 0'),
  },
});

/** What `chaos proxy` and `chaos delay` take to run the proxy, after their own flags. */
const proxyHelper = {
  proxyImage: value('--proxy-image <image>', 'run the proxy in a helper container from this image (default: nsenter as root beside a local engine, else kiboko/proxy built from this host’s node)'),
  helper: flag('--helper', 'run the proxy in a helper container even when nsenter is possible'),
  iptablesImage: value('--iptables-image <image>', 'helper image with iptables for the redirect rules (default: nsenter as root, else kiboko/nettools:local)'),
  pullImage: flag('--pull-image', 'pull the helper images before use'),
  limit: limitOption(),
};

export const networkFaultTables = () => ({
  'iptables:loss': {
    mode: value('--mode <mode>', 'random or nth (default random)'),
    probability: value('--probability <p>', 'random mode: drop probability in (0, 1]'),
    every: value('--every <n>', 'nth mode: drop one packet in every n'),
    packet: value('--packet <n>', 'nth mode: which one (0 ≤ packet < every; default 0)'),
    ...iptablesParent(false),
  },
  partition: {
    duration: durationOption('how long the partition lasts (required)'),
    peer: list('--peer <container|cidr>', 'a peer to cut off (repeatable or comma-separated)'),
    direction: value('--direction <to|from|both>', 'to: the target cannot open connections to the peers; from: the peers cannot open connections to the target; both (default): all traffic'),
    iptablesImage: iptablesImageOption(),
    pullImage: pullHelperOption(),
    limit: limitOption(),
  },
  proxy: {
    duration: durationOption('how long the fault lasts (required)'),
    port: list('--port <ports>', 'incoming: connections to these container ports (repeatable or comma-separated)'),
    to: list('--to <host[:port]>', 'outgoing: connections to this address, CIDR or container (and port; :PORT for any address) (repeatable)'),
    toxic: list('--toxic <type[:key=value,...]>', 'a toxiproxy toxic: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data; keys are its attributes plus stream, toxicity, name (repeatable); down: connections refused'),
    latency: value('--latency <duration>', 'shorthand for a latency toxic (ms or a duration)'),
    jitter: value('--jitter <duration>', 'with --latency: ± jitter'),
    stream: value('--stream <upstream|downstream>', 'with --latency: which stream (default downstream: towards the client)'),
    toxicity: value('--toxicity <p>', 'with --latency: probability per connection, 0-1 (default 1)'),
    httpAbort: value('--http-abort <status>', 'HTTP: answer matching requests with this status instead of passing them'),
    httpDelay: value('--http-delay <duration>', 'HTTP: hold matching requests this long'),
    httpMethod: value('--http-method <method>', 'HTTP: only this method'),
    httpPath: value('--http-path <glob|re2:regex>', "HTTP: only paths matching (e.g. '/api/*'; the query is not part of the path)"),
    httpHeader: list('--http-header <name: glob>', 'HTTP: only requests with this header value (repeatable, all must match)'),
    httpPercent: value('--http-percent <n>', 'HTTP: only this share of matching requests, 0-100'),
    httpFirst: value('--http-first <n>', 'HTTP: only the first N matching requests, then pass them'),
    httpBody: value('--http-body <text>', 'HTTP abort: the response body'),
    httpResponseHeader: list('--http-response-header <name: value>', 'HTTP abort: a response header (repeatable)'),
    ...proxyHelper,
  },
  delay: {
    duration: durationOption('how long the delay lasts (required)'),
    time: value('-t, --time <ms>', 'delay in ms (default 100)'),
    jitter: value('-j, --jitter <ms>', '± jitter in ms (default 0)'),
    port: list('--port <ports>', 'only responses from these container ports (repeatable; needed without netem)'),
    to: list('--to <host[:port]>', 'only connections to this address, CIDR or container (and port) (repeatable)'),
    tcImage: value('--tc-image <image>', 'helper image with tc (netem mode)'),
    ...proxyHelper,
  },
  rate: {
    duration: durationOption('how long the limit lasts (required)'),
    rate: value('-r, --rate <rate>', 'bandwidth, e.g. 1mbit, 500kbit (required)'),
    interface: value('--interface <name>', 'network interface in the target (default eth0)'),
    target: list('-t, --target <ip|cidr|container>', 'only traffic to this address, CIDR or container (repeatable)'),
    egressPort: list('--egress-port <ports>', 'only traffic from these local ports'),
    ingressPort: list('--ingress-port <ports>', 'only traffic to these ports'),
    tcImage: value('--tc-image <image>', 'helper image with tc'),
    pullImage: pullHelperOption(),
    limit: limitOption(),
  },
});
