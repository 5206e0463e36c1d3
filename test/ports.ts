import { createServer } from 'node:net';

/**
 * A free TCP port for a test to publish or listen on. Ports come from 20000–32767, below Linux's
 * ephemeral range (32768–60999): a port the kernel hands out with listen(0) or to an outgoing
 * connection can be taken again by anyone between "found free" and "bound by dockerd", which CI
 * saw once ("bind: address already in use" on a published port). Each vitest worker draws from its
 * own slice of the range, and a port is handed out once per process and checked to bind on all
 * addresses first.
 */
const LOW = 20000;
const HIGH = 32767;
const given = new Set<number>();

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const workers = 4;
  const slot = (Number(process.env.VITEST_POOL_ID ?? '1') - 1) % workers;
  const size = Math.floor((HIGH - LOW + 1) / workers);
  const base = LOW + slot * size;
  for (let i = 0; i < 200; i++) {
    const port = base + Math.floor(Math.random() * size);
    if (given.has(port)) continue;
    if ((await canBind(port, '0.0.0.0')) && (await canBind(port, '127.0.0.1'))) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${base}–${base + size - 1} after 200 tries`);
}
