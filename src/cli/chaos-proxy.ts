import { chooseExecMode, openProbe, parseOutgoing, probe, validatePort, validateProxySpec, type LifecycleAction } from '../chaos/index.js';
import { invalidArgument } from '../common/errors.js';
import type { Engine } from '../engine/index.js';
import { parseToxicSpec, ProxyApiError, validateHttpFault, type HttpFault, type Toxic } from '../proxy/index.js';
import type { ChaosOptions } from './chaos-options-type.js';
import { commaList as list, parseDurationFlag } from './options.js';

const rawList = (v: string[] | undefined): string[] => (v ?? []).map((x) => x.trim()).filter(Boolean);

function asInvalid<T>(flag: string, f: () => T, hint: string): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ProxyApiError) throw invalidArgument(`invalid ${flag}: ${err.message.replace(/^bad request body: /, '')}`, hint);
    throw err;
  }
}

function headerPairs(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf(':');
    if (i <= 0) throw invalidArgument(`invalid ${flag} '${v}': expected 'Name: value'`, `e.g. ${flag} 'X-Canary: yes*'`);
    out[v.slice(0, i).trim()] = v.slice(i + 1).trim();
  }
  return out;
}

function whole(v: string | undefined, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < min) throw invalidArgument(`invalid ${flag} '${v}': expected a whole number ≥ ${min}`, `e.g. ${flag} 3`);
  return n;
}

/** `--toxic` specs plus the `--latency/--jitter` shorthand, with `--stream`/`--toxicity` applied to the shorthand. */
function toxicsFromFlags(o: ChaosOptions): Toxic[] {
  const toxics = rawList(o.toxic).filter((spec) => spec !== 'down').map((spec) =>
    asInvalid('--toxic', () => parseToxicSpec(spec), "TYPE[:key=value,…], e.g. --toxic latency:latency=200,jitter=10 --toxic bandwidth:rate=100,stream=upstream --toxic reset_peer:timeout=0"),
  );
  if (o.latency !== undefined) {
    const latency = parseDurationFlag(/^\d+$/.test(o.latency) ? `${o.latency}ms` : o.latency, '--latency', true);
    const jitter = o.jitter === undefined ? 0 : parseDurationFlag(/^\d+$/.test(o.jitter) ? `${o.jitter}ms` : o.jitter, '--jitter') ?? 0;
    const extra = [o.stream ? `stream=${o.stream}` : '', o.toxicity !== undefined ? `toxicity=${o.toxicity}` : ''].filter(Boolean);
    toxics.push(asInvalid('--latency', () => parseToxicSpec(`latency:latency=${latency},jitter=${jitter}${extra.length ? `,${extra.join(',')}` : ''}`), 'e.g. --latency 200ms --jitter 20ms'));
  }
  const names = toxics.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw invalidArgument(`two toxics are named ${dup}`, 'give one a name: --toxic latency:latency=100,name=extra');
  return toxics;
}

function httpFaultsFromFlags(o: ChaosOptions): HttpFault[] {
  const abort = o.httpAbort;
  const delay = o.httpDelay;
  const matching = o.httpMethod !== undefined || o.httpPath !== undefined || o.httpHeader !== undefined || o.httpPercent !== undefined || o.httpFirst !== undefined;
  if (abort === undefined && delay === undefined) {
    if (matching) throw invalidArgument('HTTP match flags need an HTTP fault', "add --http-abort STATUS or --http-delay DURATION, e.g. --http-abort 503 --http-path '/api/*'");
    return [];
  }
  if (abort !== undefined && delay !== undefined) throw invalidArgument('--http-abort and --http-delay exclude each other', 'run one fault per command');
  const fault: HttpFault = {
    match: { method: o.httpMethod, path: o.httpPath, headers: o.httpHeader ? headerPairs(rawList(o.httpHeader), '--http-header') : undefined },
    action:
      abort !== undefined
        ? { abort: { status: whole(abort, '--http-abort', 100)!, body: o.httpBody, headers: o.httpResponseHeader ? headerPairs(rawList(o.httpResponseHeader), '--http-response-header') : undefined } }
        : { delayMs: parseDurationFlag(delay, '--http-delay', true) },
    percent: o.httpPercent === undefined ? undefined : Number(o.httpPercent),
    first: whole(o.httpFirst, '--http-first', 1),
  };
  asInvalid('HTTP fault', () => validateHttpFault(fault), "e.g. --http-abort 503 --http-path '/api/*' --http-first 3");
  return [fault];
}

/** `kiboko chaos proxy …`: the transparent proxy fault from its flags; throws INVALID_ARGUMENT before anything runs. */
export function proxyActionFromFlags(o: ChaosOptions): LifecycleAction {
  const action = {
    kind: 'proxy' as const,
    durationMs: parseDurationFlag(o.duration, '--duration', true),
    incomingPorts: list(o.port).map((p) => validatePort(p, '--port')),
    outgoing: list(o.to).map((t) => parseOutgoing(t)),
    toxics: toxicsFromFlags(o),
    // toxiproxy's `down` is a proxy disabled: connections refused until it is enabled again.
    down: rawList(o.toxic).includes('down'),
    httpFaults: httpFaultsFromFlags(o),
    proxyImage: o.proxyImage,
    helper: Boolean(o.helper),
    helperImage: o.iptablesImage,
    pullImage: Boolean(o.pullImage),
  };
  validateProxySpec(action);
  return action;
}

/** Whether the target kernel has netem, probed as `kiboko doctor` does (a throwaway namespace). */
export async function kernelHasNetem(engine: Engine): Promise<boolean> {
  const mode = chooseExecMode(engine);
  const p = await openProbe(engine, mode, `delay-${process.pid}`);
  try {
    return (await probe('netem', p.run)).present;
  } finally {
    await p.close();
  }
}

/**
 * `kiboko chaos delay`: netem delay when the kernel has netem (egress of the whole interface, or
 * scoped by --to hosts / ports), else the transparent proxy's latency toxic on the named traffic.
 */
export function delayActionFromFlags(o: ChaosOptions, netem: boolean): { action: LifecycleAction; via: string } {
  const time = whole(o.time ?? '100', '--time')!;
  const jitter = whole(o.jitter ?? '0', '--jitter')!;
  if (jitter > time) throw invalidArgument(`--jitter ${jitter} must not exceed --time ${time}`, 'lower --jitter');
  const durationMs = parseDurationFlag(o.duration, '--duration', true);
  const ports = list(o.port).map((p) => validatePort(p, '--port'));
  const outgoing = list(o.to).map((t) => parseOutgoing(t));
  if (netem) {
    return {
      via: 'netem (the kernel has sch_netem)',
      action: {
        kind: 'netem',
        durationMs,
        iface: 'eth0',
        effects: { delay: { timeMs: time, jitterMs: jitter, correlation: 0 } },
        scope: { targets: outgoing.flatMap((t) => (t.host ? [t.host] : [])), egressPorts: ports, ingressPorts: outgoing.flatMap((t) => (t.port ? [t.port] : [])) },
        helperImage: o.tcImage,
        pullImage: Boolean(o.pullImage),
      },
    };
  }
  if (ports.length === 0 && outgoing.length === 0) {
    throw invalidArgument('this kernel has no netem, so kiboko delays through its proxy, which needs the traffic named', 'add --port PORT (responses from the container’s port) or --to HOST:PORT (its outgoing connections)');
  }
  const action: LifecycleAction = {
    kind: 'proxy',
    durationMs,
    incomingPorts: ports,
    outgoing,
    // Egress, as netem delays it: responses leaving the container's port, requests leaving for a destination.
    toxics: [
      ...(ports.length ? [asInvalid('--time', () => parseToxicSpec(`latency:latency=${time},jitter=${jitter},stream=downstream,name=delay_incoming`), '')] : []),
      ...(outgoing.length ? [asInvalid('--time', () => parseToxicSpec(`latency:latency=${time},jitter=${jitter},stream=upstream,name=delay_outgoing`), '')] : []),
    ],
    httpFaults: [],
    proxyImage: o.proxyImage,
    helperImage: o.iptablesImage,
    pullImage: Boolean(o.pullImage),
  };
  return { via: 'the transparent proxy (this kernel has no netem)', action };
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The proxy form of a `netem delay` command, for the no-netem error's hint. */
export function proxyFormOfNetemDelay(o: ChaosOptions, containers: readonly string[]): string {
  const time = o.time ?? '100';
  const jitter = o.jitter ?? '10';
  const words = ['kiboko', 'chaos', 'delay', '--duration', o.duration ?? '30s', '--time', time, '--jitter', jitter];
  const ports = [...list(o.egressPort)];
  const targets = list(o.target);
  const dports = list(o.ingressPort);
  for (const p of ports) words.push('--port', p);
  for (const t of targets) for (const p of dports.length ? dports : ['']) words.push('--to', p ? `${t}:${p}` : t);
  if (!targets.length) for (const p of dports) words.push('--to', `:${p}`);
  if (!ports.length && !targets.length && !dports.length) words.push('--port', 'PORT');
  return [...words, ...containers].map(quote).join(' ');
}
