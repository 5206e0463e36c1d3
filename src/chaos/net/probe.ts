import { KibokoError } from '../../common/errors.js';
import type { Engine } from '../../engine/index.js';
import { LABELS } from '../../common/labels.js';
import { execFileResult, type CommandResult } from './exec.js';

export type KernelFeature = 'netem' | 'tbf' | 'htb' | 'prio' | 'ifb';

const PROBES: Record<KernelFeature, string[]> = {
  netem: ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
  tbf: ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms'],
  htb: ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'htb'],
  prio: ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'prio'],
  ifb: ['ip', 'link', 'add', 'kbkprobe0', 'type', 'ifb'],
};

export const MODULE_OF: Record<KernelFeature, string> = { netem: 'sch_netem', tbf: 'sch_tbf', htb: 'sch_htb', prio: 'sch_prio', ifb: 'ifb' };

export interface ProbeResult {
  feature: KernelFeature;
  present: boolean;
  detail: string;
}

export type ProbeRunner = (argv: readonly string[]) => Promise<CommandResult>;

/** Probes run in a fresh, empty network namespace (`unshare --net`), so nothing real is touched. */
export const hostProbeRunner: ProbeRunner = (argv) => execFileResult('unshare', ['--net', '--', ...argv]);

/** Without root on the engine's host: a throwaway helper container with no network of its own. */
export async function helperProbeRunner(engine: Engine, image: string, runId: string): Promise<{ run: ProbeRunner; close: () => Promise<void> }> {
  const ref = await engine.create({
    image,
    name: `kiboko-probe-${runId.slice(0, 8)}-${Math.random().toString(16).slice(2, 6)}`,
    networkMode: 'none',
    entrypoint: ['sleep'],
    cmd: ['2147483647'],
    stopSignal: 'SIGKILL',
    capAdd: ['NET_ADMIN'],
    labels: { [LABELS.skip]: 'true', [LABELS.managed]: 'true', [LABELS.role]: 'helper', [LABELS.runId]: runId },
  });
  const close = async () => void (await engine.remove(ref.id, { force: true }).catch(() => undefined));
  try {
    await engine.start(ref.id);
  } catch (err) {
    await close();
    throw err;
  }
  const run: ProbeRunner = async (argv) => {
    const r = await engine.exec(ref.id, { cmd: argv });
    // Each probe changes only the helper's own namespace; undo it before the next one.
    await engine.exec(ref.id, { cmd: ['tc', 'qdisc', 'del', 'dev', 'lo', 'root'] }).catch(() => undefined);
    await engine.exec(ref.id, { cmd: ['ip', 'link', 'del', 'kbkprobe0'] }).catch(() => undefined);
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
  return { run, close };
}

export async function probe(feature: KernelFeature, run: ProbeRunner): Promise<ProbeResult> {
  const r = await run(PROBES[feature]);
  if (r.code === 0) return { feature, present: true, detail: 'ok' };
  const text = (r.stderr || r.stdout).trim();
  return { feature, present: false, detail: text || `exit ${r.code}` };
}

/** Fails before anything is touched when the kernel lacks what a fault needs. */
export async function requireFeatures(features: readonly KernelFeature[], run: ProbeRunner): Promise<void> {
  for (const f of features) {
    const r = await probe(f, run);
    if (!r.present) {
      throw new KibokoError('KERNEL_FEATURE_MISSING', `this kernel has no ${f} support (${MODULE_OF[f]}): ${r.detail}`, {
        hint:
          f === 'netem'
            ? 'load it with `modprobe sch_netem` (package linux-modules-extra on some distributions) or use a kernel that has it; for bandwidth limits `kiboko chaos rate` works without netem; `kiboko doctor` lists what this host supports'
            : `load it with \`modprobe ${MODULE_OF[f]}\`; \`kiboko doctor\` lists what this host supports`,
        details: { feature: f, module: MODULE_OF[f] },
      });
    }
  }
}
