/**
 * Entry of the transparent proxy agent (bundled as dist/proxy-agent.mjs; also the helper image's
 * program). argv[2]: the AgentConfig as JSON; `--detached`: do not watch stdin. It prints one
 * JSON line when ready, takes NDJSON commands on stdin ({"op":"toxics","toxics":[…]},
 * {"op":"http","faults":[…]}) and exits when stdin closes (kiboko died or is done), on
 * SIGTERM/SIGINT, or at `exitAt`.
 */
import { execFileSync } from 'node:child_process';
import { startAgent, type AgentConfig } from './agent.js';

const write = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main() {
  const config = JSON.parse(process.argv[2] ?? '{}') as AgentConfig;
  const detached = process.argv.includes('--detached');
  const agent = await startAgent(config);
  let closing = false;
  /** iptables argv lists that undo kiboko's redirect rules: run if kiboko dies (stdin closes) before it removed them. */
  let cleanup: string[][] = [];
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
  if (!detached) {
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        try {
          const cmd = JSON.parse(line) as { op: string; toxics?: unknown[]; faults?: [] };
          if (cmd.op === 'toxics') agent.setToxics(cmd.toxics ?? []);
          else if (cmd.op === 'http') agent.setHttpFaults(cmd.faults ?? []);
          else if (cmd.op === 'cleanup') cleanup = (cmd as unknown as { argv: string[][] }).argv ?? [];
          else throw new Error(`unknown op ${cmd.op}`);
          write({ event: 'ok', op: cmd.op });
        } catch (err) {
          write({ event: 'error', message: (err as Error).message });
        }
      }
    });
    process.stdin.on('end', () => void exit('stdin closed'));
    process.stdin.on('error', () => void exit('stdin error'));
  }
  write(agent.ready);
}

main().catch((err: Error) => {
  write({ event: 'error', message: err.message });
  process.exit(1);
});
