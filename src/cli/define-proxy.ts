import type { Command } from 'commander';
import { actionOf } from './command-options.js';

/**
 * Declares `kiboko proxy serve` (options and help only; the action lazy-loads ./proxy.js so
 * `kiboko --help` stays fast).
 */
export function defineProxyCommands(program: Command): void {
  const proxy = program.command('proxy').description("fault proxies with toxiproxy's toxics, driven by toxiproxy's HTTP API (toxiproxy clients work unchanged)");
  const serve = proxy
    .command('serve')
    .description("serve toxiproxy's HTTP API (/proxies, /proxies/{name}/toxics, /reset, /populate, /version) and the proxies it creates")
    .option('--host <host>', 'address to listen on (default localhost; the API has no authentication, like toxiproxy: keep it on loopback)')
    .option('--port <port>', 'API port (default 8474, toxiproxy’s)')
    .option('--config <file>', 'JSON file of proxies to create at start (toxiproxy -config / POST /populate format)')
    .option('--state-dir <dir>', 'whose `kiboko chaos proxy` faults to list and change (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)');
  actionOf(serve, async (command) => (await import('./proxy.js')).runProxyServe(command));
}
