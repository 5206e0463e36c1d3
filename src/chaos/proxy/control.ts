import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, type Socket } from 'node:net';
import { ProxyApiError, parseToxic, type Toxic } from '../../proxy/index.js';

/**
 * How a toxiproxy API server (`kiboko proxy serve`, `kiboko serve`) changes the toxics (or `enabled`) of a running
 * `kiboko chaos proxy` fault: through the process that holds the fault, which forwards the change
 * to its agent and records it in its journal entry (the one writer of that entry). The channel is
 * an abstract unix socket (no file to leave behind, no path-length limit) named in the journal
 * entry with a random token; the journal folder is the user's own (0700), so holding the token
 * is holding the state directory. Every line is checked before it is acted on: the socket is
 * reachable by any process of the host's network namespace.
 */
export interface HoldControlAddress {
  /** The abstract socket's name (without the leading NUL). */
  socket: string;
  token: string;
}

/** A change to one of the agent's listeners (`incoming-<port>` or `outgoing`): its toxics, or toxiproxy's `enabled`. */
export type HoldCommand = { op: 'toxics'; proxy: string; toxics: Toxic[] } | { op: 'enabled'; proxy: string; enabled: boolean };

const MAX_LINE = 1 << 20;
const TIMEOUT_MS = 15_000;

const abstract = (name: string) => `\0${name}`;

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One line from a client: authenticated, then parsed into a command (or an error to answer). */
export function parseControlLine(line: string, token: string): HoldCommand {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new Error('not JSON');
  }
  if (typeof o !== 'object' || o === null) throw new Error('not a JSON object');
  const c = o as { token?: unknown; op?: unknown; proxy?: unknown; toxics?: unknown; enabled?: unknown };
  if (typeof c.token !== 'string' || !sameToken(c.token, token)) throw new Error('bad token');
  if (c.op !== 'toxics' && c.op !== 'enabled') throw new Error(`unknown op ${JSON.stringify(c.op)}`);
  if (typeof c.proxy !== 'string' || !/^(incoming-\d{1,5}|outgoing)$/.test(c.proxy)) throw new Error('proxy must be incoming-<port> or outgoing');
  if (c.op === 'enabled') {
    if (typeof c.enabled !== 'boolean') throw new Error('enabled must be true or false');
    return { op: 'enabled', proxy: c.proxy, enabled: c.enabled };
  }
  if (!Array.isArray(c.toxics) || c.toxics.length > 100) throw new Error('toxics must be a list of at most 100');
  return { op: 'toxics', proxy: c.proxy, toxics: c.toxics.map((t) => parseToxic(t)) };
}

export interface HoldControl {
  address: HoldControlAddress;
  close(): Promise<void>;
}

/** Listens for changes; `apply` runs them one at a time, in the order they came. */
export async function startHoldControl(apply: (command: HoldCommand) => Promise<void>): Promise<HoldControl> {
  const address: HoldControlAddress = { socket: `kiboko-proxy-${randomBytes(8).toString('hex')}`, token: randomBytes(24).toString('base64url') };
  let queue: Promise<unknown> = Promise.resolve();
  const answer = (socket: Socket, body: Record<string, unknown>) => socket.end(`${JSON.stringify(body)}\n`);
  const server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\n');
      if (end < 0) {
        if (buf.length > MAX_LINE) socket.destroy();
        return;
      }
      socket.pause();
      let command: HoldCommand;
      try {
        command = parseControlLine(buf.slice(0, end), address.token);
      } catch (err) {
        return answer(socket, { ok: false, message: (err as Error).message });
      }
      const run = queue.then(() => apply(command));
      queue = run.catch(() => undefined);
      run.then(
        () => answer(socket, { ok: true }),
        (err: unknown) => answer(socket, { ok: false, message: (err as Error).message }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(abstract(address.socket), () => resolve());
  });
  server.unref();
  return { address, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Sends a change to the process holding a fault and waits for it to have applied it. A fault
 * whose holder is gone (it ended, or was killed and awaits `kiboko chaos recover`) is a 409.
 */
export function sendToHold(address: HoldControlAddress, command: HoldCommand): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = createConnection(abstract(address.socket));
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('no answer within 15 s')));
    socket.on('connect', () => socket.write(`${JSON.stringify({ token: address.token, ...command })}\n`));
    socket.on('data', (d: string) => {
      reply += d;
      if (reply.length > MAX_LINE) socket.destroy(new Error('answer too long'));
    });
    socket.on('error', (err) => reject(new ProxyApiError(`the chaos run holding this fault does not answer (${err.message}): it has ended, or was killed and awaits \`kiboko chaos recover\``, 409)));
    socket.on('close', () => {
      let o: { ok?: unknown; message?: unknown } = {};
      try {
        o = JSON.parse(reply) as typeof o;
      } catch {
        // no answer: reported below
      }
      if (o.ok === true) resolve();
      else reject(new ProxyApiError(`the chaos run holding this fault refused the change: ${typeof o.message === 'string' ? o.message : 'no answer'}`, 409));
    });
  });
}
