/**
 * Entry of the transparent proxy agent (bundled as dist/proxy-agent.mjs; also the helper image's
 * program). argv[2]: the AgentConfig as JSON; `--detached`: do not watch stdin, take commands on
 * the unix socket AGENT_CONTROL_SOCKET instead (a helper container's own file system: only
 * `docker exec` into the helper reaches it). It prints one JSON line when ready, takes NDJSON
 * commands ({"op":"toxics","toxics":[…],"proxy":"incoming-80"}, {"op":"enabled","enabled":false},
 * {"op":"http","faults":[…]},
 * {"op":"cleanup","argv":[…]}) and answers each with {"event":"ok"} or {"event":"error"}; it
 * exits when stdin closes (kiboko died or is done), on SIGTERM/SIGINT, or at `exitAt`.
 * `--send SOCKET JSON`: the client side of that socket (what kiboko runs with `docker exec`).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { AGENT_CONTROL_SOCKET, startAgent, type AgentConfig, type RunningAgent } from './agent.js';

const write = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
/** A command line is small (a toxic list); anything longer is not kiboko's. */
const MAX_LINE = 1 << 20;

interface Command {
  op?: unknown;
  toxics?: unknown;
  proxy?: unknown;
  faults?: unknown;
  argv?: unknown;
  enabled?: unknown;
  /** Echoed in the answer, so kiboko can match answers to commands. */
  id?: unknown;
}

/** Carries out one command line; the answer is the line to send back. */
function commandHandler(agent: RunningAgent, setCleanup: (argv: string[][]) => void) {
  return async (line: string): Promise<Record<string, unknown>> => {
    let id: unknown;
    try {
      const cmd = JSON.parse(line) as Command;
      id = cmd.id;
      const proxy = typeof cmd.proxy === 'string' ? cmd.proxy : undefined;
      if (cmd.op === 'toxics') agent.setToxics(Array.isArray(cmd.toxics) ? cmd.toxics : [], proxy);
      else if (cmd.op === 'enabled' && typeof cmd.enabled === 'boolean') await agent.setEnabled(cmd.enabled, proxy);
      else if (cmd.op === 'http') agent.setHttpFaults(Array.isArray(cmd.faults) ? cmd.faults : []);
      else if (cmd.op === 'cleanup') setCleanup(Array.isArray(cmd.argv) ? (cmd.argv as string[][]) : []);
      else throw new Error(`unknown op ${String(cmd.op)}`);
      return { event: 'ok', op: cmd.op, id };
    } catch (err) {
      return { event: 'error', message: (err as Error).message, id };
    }
  };
}

/** Calls `onLine` for each newline-terminated line of a stream; false when a line is too long. */
function lineReader(onLine: (line: string) => void): (chunk: string) => boolean {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
    return buf.length <= MAX_LINE;
  };
}

/** The detached agent's command socket: one command per connection, answered, then closed. */
function listenForCommands(handle: (line: string) => Promise<Record<string, unknown>>): void {
  rmSync(AGENT_CONTROL_SOCKET, { force: true });
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    const read = lineReader((line) => void handle(line).then((answer) => socket.end(`${JSON.stringify(answer)}\n`)));
    socket.on('data', (d: string) => read(d) || socket.destroy());
    socket.on('error', () => socket.destroy());
  });
  server.listen(AGENT_CONTROL_SOCKET);
  server.unref();
}

/** `--send SOCKET JSON`: sends one command to a detached agent and prints its answer. */
function sendCommand(socketPath: string, line: string): void {
  const socket = createConnection(socketPath);
  let answer = '';
  socket.setEncoding('utf8');
  socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  socket.on('connect', () => socket.write(`${line}\n`));
  socket.on('data', (d: string) => (answer += d));
  socket.on('error', (err) => {
    write({ event: 'error', message: `the proxy agent does not answer: ${err.message}` });
    process.exitCode = 1;
  });
  socket.on('close', () => {
    if (answer) process.stdout.write(answer);
    if (!answer.includes('"event":"ok"')) process.exitCode = 1;
  });
}

async function main() {
  const sendAt = process.argv.indexOf('--send');
  if (sendAt >= 0) return sendCommand(process.argv[sendAt + 1] ?? AGENT_CONTROL_SOCKET, process.argv[sendAt + 2] ?? '{}');
  const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
  const detached = process.argv.includes('--detached');
  const agent = await startAgent(config);
  let closing = false;
  /** iptables argv lists that undo kiboko's redirect rules: run if kiboko dies (stdin closes) before it removed them. */
  let cleanup: string[][] = [];
  const handle = commandHandler(agent, (argv) => (cleanup = argv));
  const exit = async (why: string) => {
    if (closing) return;
    closing = true;
    for (const argv of cleanup) {
      try {
        execFileSync('iptables', argv, { stdio: 'ignore', timeout: 5000 });
      } catch {
        // already gone
      }
    }
    await Promise.race([agent.close(), new Promise((r) => setTimeout(r, 2000))]);
    write({ event: 'exit', why });
    process.exit(0);
  };
  process.on('SIGTERM', () => void exit('SIGTERM'));
  process.on('SIGINT', () => void exit('SIGINT'));
  if (config.exitAt) setTimeout(() => void exit('deadline'), Math.max(0, config.exitAt - Date.now())).unref();
  if (detached) listenForCommands(handle);
  else {
    process.stdin.setEncoding('utf8');
    const read = lineReader((line) => void handle(line).then(write));
    process.stdin.on('data', (d: string) => read(d) || void exit('command line too long'));
    process.stdin.on('end', () => void exit('stdin closed'));
    process.stdin.on('error', () => void exit('stdin error'));
  }
  write(agent.ready);
}

main().catch((err: Error) => {
  write({ event: 'error', message: err.message });
  process.exit(1);
});
