import { Option, type Command } from 'commander';
import type { ActionHandler } from './handlers.js';

/**
 * Option helpers every command definition uses (program.ts and the define-*.ts files) and every
 * command reads its options with; commander is the only import, so `kiboko --help` stays fast.
 */

/** Commander's argParser for a repeatable option: each use adds its value. */
export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `--label`, as the commands that pick running containers by their labels take it. */
export const labelFilterOption = () => new Option('--label <key=value>', 'only containers with this label (repeatable, AND; or k1=v1,k2=v2)').argParser(collect);

/** Engine connection flags, as the docker CLI and Pumba spell them. */
export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option('-H, --host <host>', 'engine address: unix:///var/run/docker.sock or tcp://HOST:PORT (env DOCKER_HOST)')
    .option('--tls', 'use TLS (implied by --tlsverify)')
    .option('--tlsverify', 'use TLS and verify the engine (env DOCKER_TLS_VERIFY)')
    .option('--tlscacert <path|pem>', 'CA certificate (default $DOCKER_CERT_PATH/ca.pem)')
    .option('--tlscert <path|pem>', 'client certificate (default $DOCKER_CERT_PATH/cert.pem)')
    .option('--tlskey <path|pem>', 'client key (default $DOCKER_CERT_PATH/key.pem)')
    .option('--state-dir <dir>', 'where the restore journal lives (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)');
}

/**
 * Sets what a command does: `run` gets the command and its positional arguments (variadic ones
 * spread), and what it returns is the exit code.
 */
export function actionOf(cmd: Command, run: ActionHandler): Command {
  return cmd.action(async (...args: unknown[]) => {
    // commander passes the declared arguments, then the options, then the command itself.
    const command = args[args.length - 1] as Command;
    const positional = args.slice(0, -2).flat().filter((a): a is string => typeof a === 'string');
    process.exitCode = await run(command, positional);
  });
}

/** The engine flags, then the action: how a command that talks to the engine ends its definition. */
export function engineAction(cmd: Command, run: ActionHandler): Command {
  return actionOf(addEngineOptions(cmd), run);
}

/**
 * Options of a command merged with its ancestors' (the chaos globals may sit on either side of
 * the command name); repeatable options are concatenated, scalar ones taken nearest first.
 */
export function mergedOptions(cmd: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const out: Record<string, unknown> = {};
  for (const c of chain) {
    for (const [k, v] of Object.entries(c.opts())) {
      if (v === undefined) continue;
      out[k] = Array.isArray(v) && Array.isArray(out[k]) ? [...(out[k] as unknown[]), ...v] : v;
    }
  }
  return out;
}
