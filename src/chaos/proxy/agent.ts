import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KibokoError } from '../../common/errors.js';
import { LABELS } from '../../common/labels.js';
import type { ContainerRef, Engine } from '../../engine/index.js';
import { buildHostToolsImage } from '../../images/index.js';
import { processStartTime } from '../../journal/index.js';
import { AGENT_CONTROL_SOCKET, type AgentConfig, type AgentReady } from '../../proxy/index.js';
import { removeHelper } from '../net/exec.js';
import { PROXY_GID } from './rules.js';
import { agentScriptPath } from './agent-path.js';

/** How a running agent is found again (after the hold, or by recovery after a crash). */
export type AgentIdentity = { via: 'nsenter'; pid: number; startTime: string } | { via: 'helper'; containerId: string; image: string };

export interface AgentHandle {
  identity: AgentIdentity;
  ready: AgentReady;
  /** Writes a command without waiting (nsenter agents only: the dead man's switch's cleanup list). */
  send?: ((command: Record<string, unknown>) => void) | undefined;
  /** Sends a command (new toxics, HTTP faults) and resolves when the agent has carried it out. */
  request(command: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 10_000;

type Answer = { ok: true } | { ok: false; message: string };

/** The agent's answer to a command line (with the command's id), or undefined for a line that is not one. */
function parseAnswer(line: string): (Answer & { id?: unknown }) | undefined {
  try {
    const o = JSON.parse(line) as { event?: string; message?: unknown; id?: unknown };
    if (o.event === 'ok') return { ok: true, id: o.id };
    if (o.event === 'error') return { ok: false, message: String(o.message), id: o.id };
  } catch {
    // not an answer
  }
  return undefined;
}

const commandFailed = (message: string) => new KibokoError('ACTION_FAILED', `the fault proxy refused the change: ${message}`, { hint: 'check the toxic (toxiproxy names and attributes); the fault goes on with its previous toxics' });

/**
 * Commands to an nsenter agent over its stdin; the agent answers each on its stdout with the
 * command's id, which is how an answer finds its request (the cleanup list is sent unanswered).
 */
function stdinRequests(child: ChildProcess): (command: Record<string, unknown>) => Promise<void> {
  const waiting = new Map<number, (answer: Answer) => void>();
  let nextId = 1;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const answer = parseAnswer(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (answer && typeof answer.id === 'number') waiting.get(answer.id)?.(answer);
    }
  });
  child.once('exit', () => {
    for (const w of waiting.values()) w({ ok: false, message: 'the agent exited' });
  });
  return (command) =>
    new Promise<void>((resolve, reject) => {
      if (child.exitCode !== null || !child.stdin!.writable) return reject(commandFailed('the agent is not running'));
      const id = nextId++;
      const timer = setTimeout(() => settle({ ok: false, message: 'no answer within 10 s' }), REQUEST_TIMEOUT_MS);
      const settle = (answer: Answer) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (answer.ok) resolve();
        else reject(commandFailed(answer.message));
      };
      waiting.set(id, settle);
      child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    });
}

const READY_TIMEOUT_MS = 15_000;


function parseReady(line: string): AgentReady | { event: 'error'; message: string } | undefined {
  try {
    const o = JSON.parse(line) as { event?: string };
    if (o.event === 'ready' || o.event === 'error') return o as AgentReady;
  } catch {
    // not ours
  }
  return undefined;
}

const agentFailed = (message: string) =>
  new KibokoError('ACTION_FAILED', `the fault proxy did not start in the target's namespace: ${message}`, { hint: 'run `kiboko doctor`; the proxy needs node and conntrack (for outgoing faults) in that namespace' });


/**
 * Root beside a local engine: the agent is this host's node, entered into the target's network
 * namespace with nsenter and running with kiboko's proxy group. Its stdin is a pipe from kiboko:
 * when kiboko dies (even by SIGKILL) the pipe closes and the agent exits.
 */
export async function startNsenterAgent(pid: number, config: AgentConfig): Promise<AgentHandle> {
  const child: ChildProcess = spawn('nsenter', ['-t', String(pid), '-n', '-G', String(PROXY_GID), '--', process.execPath, agentScriptPath(), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C to kiboko must not kill the proxy before kiboko removed the rules.
    detached: true,
  });
  const ready = await new Promise<AgentReady>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(agentFailed('no answer within 15 s')), READY_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        const r = parseReady(line);
        if (r) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          if (r.event === 'ready') resolve(r);
          else reject(agentFailed(r.message));
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(agentFailed(`exited with ${code}: ${err.trim() || out.trim()}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(agentFailed(e.message));
    });
  }).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  const identity: AgentIdentity = { via: 'nsenter', pid: child.pid!, startTime: processStartTime(child.pid!) };
  return {
    identity,
    ready,
    send: (command) => child.stdin!.write(`${JSON.stringify(command)}\n`),
    request: stdinRequests(child),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The helper image: this host's node binary and the agent, FROM scratch, tagged by the agent's hash. */
export async function ensureProxyImage(engine: Engine): Promise<string> {
  const script = readFileSync(agentScriptPath(), 'utf8');
  const tag = `kiboko/proxy:${createHash('sha256').update(script).update(process.version).digest('hex').slice(0, 12)}`;
  if (!(await engine.imageExists(tag))) {
    await buildHostToolsImage(engine, { tag, programs: [process.execPath], files: { '/kiboko/proxy-agent.mjs': script }, entrypoint: [process.execPath, '/kiboko/proxy-agent.mjs'] });
  }
  return tag;
}

/**
 * Without root beside the engine: the agent runs in a helper container sharing the target's
 * network namespace (`--network container:<id>`), as root with kiboko's proxy group. If kiboko
 * dies, recovery (or the next chaos run) removes the rules and the helper, found by its labels.
 */
export async function startHelperAgent(engine: Engine, target: ContainerRef, config: AgentConfig, runId: string, image?: string): Promise<AgentHandle> {
  const tag = image ?? (await ensureProxyImage(engine));
  const ref = await engine.create({
    image: tag,
    name: `kiboko-proxy-${target.name}-${runId.slice(0, 8)}-${Math.random().toString(16).slice(2, 6)}`,
    cmd: [JSON.stringify(config), '--detached'],
    user: `0:${PROXY_GID}`,
    networkMode: `container:${target.id}`,
    stopSignal: 'SIGTERM',
    labels: { [LABELS.skip]: 'true', [LABELS.managed]: 'true', [LABELS.role]: 'helper', [LABELS.runId]: runId },
  });
  const remove = () => engine.remove(ref.id, { force: true }).catch(() => undefined);
  try {
    await engine.start(ref.id);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const logs = await engine.logs(ref.id);
      for (const line of logs.split('\n')) {
        const r = parseReady(line.slice(line.indexOf('{')));
        if (r?.event === 'ready') {
          return { identity: { via: 'helper', containerId: ref.id, image: tag }, ready: r, request: (command) => requestHelperAgent(engine, ref.id, command), stop: async () => void (await remove()) };
        }
        if (r?.event === 'error') throw agentFailed(r.message);
      }
      const state = await engine.inspect(ref.id);
      if (state.status !== 'running') throw agentFailed(`helper exited: ${logs.trim()}`);
      if (Date.now() > deadline) throw agentFailed('no answer within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * A command to a helper agent: `docker exec` of the agent's own client in the helper, which
 * hands it to the agent's socket in the helper's file system (nothing else can reach it).
 */
export async function requestHelperAgent(engine: Engine, helperId: string, command: Record<string, unknown>): Promise<void> {
  const result = await engine.exec(helperId, { cmd: [process.execPath, '/kiboko/proxy-agent.mjs', '--send', AGENT_CONTROL_SOCKET, JSON.stringify(command)] });
  const answer = result.stdout.split('\n').map(parseAnswer).find(Boolean);
  if (answer?.ok) return;
  throw commandFailed(answer?.message ?? (result.stderr.trim() || `exit code ${result.exitCode}`));
}

/** Stops an agent found in the journal (recovery): only the very process or container kiboko started. */
export async function stopAgent(engine: Engine, identity: AgentIdentity): Promise<'stopped' | 'gone'> {
  if (identity.via === 'helper') return (await removeHelper(engine, identity.containerId)) ? 'stopped' : 'gone';
  if (!identity.startTime || processStartTime(identity.pid) !== identity.startTime) return 'gone';
  try {
    process.kill(identity.pid, 'SIGKILL');
    return 'stopped';
  } catch {
    return 'gone';
  }
}
