import { invalidArgument } from '../common/errors.js';
import { connectEngine } from '../engine/index.js';
import type { DeployCommonOptions, DeployOptions } from './deploy-options.js';
import { engineMode, loadFromFlags, open, projectFromFlags } from './deploy-flags.js';
import { connectionFlags } from './options.js';
import { pullProgressFor, withPullProgress } from './pull-progress.js';
import { installSignalHandlers } from './signals.js';

/** docker compose's project commands: down, ps, logs, restart, pull. */

/** What ps, logs and restart start from: the flags, the deploy library, the engine and the project they name. */
async function openProject<O extends DeployCommonOptions>(o: O) {
  const d = await import('../deploy/index.js');
  const engine = await connectEngine(connectionFlags(o));
  const { project } = await projectFromFlags(o);
  return { o, d, engine, project };
}

export async function runDeployDown(o: DeployOptions<'down'>): Promise<number> {
  const d = await import('../deploy/index.js');
  const rmi = o.rmi;
  if (rmi !== undefined && rmi !== 'local' && rmi !== 'all') throw invalidArgument(`invalid --rmi '${rmi}': expected local or all`, 'e.g. --rmi local');
  const { engine, store } = await open(o);
  try {
    const { project, config } = await projectFromFlags(o);
    const swarm = await d.useSwarm(engine, engineMode(o));
    const r = await d.downProject(engine, store, project, {
      config,
      volumes: Boolean(o.volumes),
      rmi,
      removeOrphans: Boolean(o.removeOrphans),
      swarm,
      onEvent: (e) => {
        if (o.json) return;
        if (e.type === 'warning') process.stderr.write(`warning: ${e.message}\n`);
        else process.stdout.write(`removed ${e.kind} ${e.name}\n`);
      },
    });
    if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`project ${project} down (revision ${r.revision ?? '-'})\n`);
    return 0;
  } finally {
    store.close();
  }
}

export async function runDeployPs(options: DeployOptions<'ps'>, args: string[]): Promise<number> {
  const { o, d, engine, project } = await openProject(options);
  const rows = await d.psProject(engine, project, args);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  const table = [['NAME', 'SERVICE', 'IMAGE', 'STATUS', 'PORTS'], ...rows.map((r) => [r.name, r.service, r.image, `${r.status}${r.health !== 'none' ? ` (${r.health})` : ''}${r.createdBy === 'kiboko' ? '' : ' [docker compose]'}`, r.ports.join(', ')])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')}\n`);
  return 0;
}

export async function runDeployLogs(options: DeployOptions<'logs'>, args: string[]): Promise<number> {
  const { o, d, engine, project } = await openProject(options);
  const tail = o.tail === undefined || o.tail === 'all' ? undefined : Number(o.tail);
  if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw invalidArgument(`invalid --tail '${o.tail}': expected a number of lines or all`, 'e.g. --tail 100');
  const replicas = await d.projectReplicas(engine, project, args);
  const signals = installSignalHandlers(() => undefined);
  try {
    const width = Math.max(0, ...replicas.map((r) => `${r.service}-${r.slot}`.length));
    await Promise.all(
      replicas.map(async (r) => {
        const prefix = o.logPrefix === false ? '' : `${`${r.service}-${r.slot}`.padEnd(width)} | `;
        let rest = '';
        for await (const chunk of engine.streamLogs(r.id, { follow: Boolean(o.follow), signal: signals.signal, timestamps: Boolean(o.timestamps), ...(tail !== undefined ? { tail } : {}) })) {
          rest += chunk.text;
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
        }
        if (rest) process.stdout.write(`${prefix}${rest}\n`);
      }),
    );
    return 0;
  } finally {
    signals.dispose();
  }
}

export async function runDeployRestart(options: DeployOptions<'restart'>, args: string[]): Promise<number> {
  const { o, d, engine, project } = await openProject(options);
  const done = await d.restartProject(engine, project, args, (name) => (o.json ? undefined : process.stdout.write(`restarted ${name}\n`)));
  if (o.json) process.stdout.write(`${JSON.stringify({ project, restarted: done })}\n`);
  return 0;
}

export async function runDeployPull(o: DeployOptions<'pull'>, args: string[]): Promise<number> {
  const d = await import('../deploy/index.js');
  const engine = withPullProgress(await connectEngine(connectionFlags(o)), pullProgressFor(o.json ? (e) => process.stdout.write(`${JSON.stringify(e)}\n`) : undefined));
  const { loaded } = await loadFromFlags(o);
  const events: unknown[] = [];
  const r = await d.pullProject(engine, loaded, args, (e) => {
    if (o.json) events.push(e);
    else process.stdout.write(`${e.service}: ${e.outcome} ${e.image}${e.detail ? ` (${e.detail})` : ''}\n`);
  });
  if (o.json) process.stdout.write(`${JSON.stringify({ project: loaded.project, pulls: events })}\n`);
  return r.failed && !o.ignorePullFailures ? 1 : 0;
}
