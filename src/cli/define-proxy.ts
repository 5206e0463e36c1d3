import type { Command } from 'commander';
import { proxyServeOptions } from './proxy-options.js';
import type { Register } from './register.js';

/** Declares `kiboko proxy serve` (the action lazy-loads ./proxy.js so `kiboko --help` stays fast). */
export function defineProxyCommands(program: Command, register: Register): void {
  const proxy = program.command('proxy').description("fault proxies with toxiproxy's toxics, driven by toxiproxy's HTTP API (toxiproxy clients work unchanged)");
  const serve = proxy
    .command('serve')
    .description("serve toxiproxy's HTTP API (/proxies, /proxies/{name}/toxics, /reset, /populate, /version) and the proxies it creates");
  register(serve, proxyServeOptions(), async (o) => (await import('./proxy.js')).runProxyServe(o));
}
