import { agentScriptPath, chooseExecMode, DEFAULT_HELPER_IMAGE, execFileResult, MODULE_OF, openProbe, probe, PROXY_GID, type KernelFeature } from '../chaos/index.js';
import { asKibokoError } from '../common/errors.js';
import { randomUUID } from '../common/random.js';
import type { Engine } from '../engine/index.js';

/** Runs a command in the probe's throwaway namespace. */
type ProbeRun = Awaited<ReturnType<typeof openProbe>>['run'];

export type CheckStatus = 'ok' | 'missing' | 'warn' | 'error';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a check that is not ok. */
  hint?: string | undefined;
  /** What depends on it. */
  needed_for?: string | undefined;
}

const QDISCS: { feature: KernelFeature; needed_for: string; hint?: string }[] = [
  { feature: 'netem', needed_for: 'netem delay/loss/duplicate/corrupt/rate', hint: 'modprobe sch_netem (linux-modules-extra on some distributions); without it `kiboko chaos delay` and `kiboko chaos proxy` delay traffic through the fault proxy, `kiboko chaos rate` limits bandwidth' },
  { feature: 'tbf', needed_for: 'rate (unscoped), netem rate fallback' },
  { feature: 'htb', needed_for: 'rate with --target/ports' },
  { feature: 'prio', needed_for: 'netem with --target/ports' },
  { feature: 'ifb', needed_for: 'ingress shaping (future)' },
];

/**
 * Everything kiboko's faults depend on, checked without touching any container: probes run in a
 * throwaway network namespace (or a throwaway helper container when kiboko is not root here).
 */
export async function runChecks(engine: Engine): Promise<Check[]> {
  const checks: Check[] = [];
  const info = await engine.info();
  checks.push({ name: 'engine', status: 'ok', detail: `Docker ${info.serverVersion} at ${info.endpoint} (${info.os}/${info.arch})` });
  checks.push({ name: 'api version', status: 'ok', detail: `engine speaks ${info.apiVersion}; kiboko negotiated ${info.negotiatedApiVersion}` });

  const sys = await engine.systemInfo();
  checks.push({
    name: 'cgroups',
    status: 'ok',
    detail: `cgroup v${sys.cgroupVersion}, driver ${sys.cgroupDriver}`,
    needed_for: 'stress (placed in the target’s cgroup)',
    ...(sys.cgroupDriver === 'systemd' ? { status: 'warn' as const, hint: 'with the systemd driver a --stress-image helper is a sibling of the target, not a child: the target’s limits do not apply to it; run stress as root on the host instead' } : {}),
  });

  const mode = chooseExecMode(engine);
  checks.push(
    mode.via === 'nsenter'
      ? { name: 'fault injection', status: 'ok', detail: 'root beside a local engine: nsenter into target namespaces, no helper container needed' }
      : { name: 'fault injection', status: 'ok', detail: `through helper containers (${mode.image}) with NET_ADMIN`, hint: 'as root on the engine host kiboko uses nsenter and needs no helper image' },
  );
  if (mode.via === 'helper') {
    const present = await engine.imageExists(DEFAULT_HELPER_IMAGE);
    checks.push({
      name: 'helper image',
      status: present ? 'ok' : 'missing',
      detail: present ? `${DEFAULT_HELPER_IMAGE} is on the engine` : `${DEFAULT_HELPER_IMAGE} is not on the engine`,
      hint: present ? undefined : 'build it with `bash images/nettools/build-local.sh` (no registry needed) or pass --tc-image/--iptables-image',
      needed_for: 'netem, rate, iptables, partition',
    });
    if (!present) return checks; // the remaining probes run inside that image
  }

  const probeRunner = await openProbe(engine, mode, randomUUID());
  try {
    checks.push(...(await kernelChecks(probeRunner.run)));
  } finally {
    await probeRunner.close();
  }

  if (mode.via === 'nsenter') checks.push(...(await hostToolChecks()));
  return checks;
}

/** What the probe finds in a throwaway namespace: NET_ADMIN, the qdiscs, iptables matches and targets, conntrack, nft. */
async function kernelChecks(run: ProbeRun): Promise<Check[]> {
  const checks: Check[] = [];
  const admin = await run(['ip', 'link', 'set', 'lo', 'up']);
  checks.push(commandCheck('NET_ADMIN', admin, { ok: 'network namespaces can be reconfigured', hint: 'run kiboko as root, or let it use a helper container with NET_ADMIN', neededFor: 'every network fault' }));
  for (const q of QDISCS) {
    const r = await probe(q.feature, run);
    checks.push({
      name: `${q.feature} (${MODULE_OF[q.feature]})`,
      status: r.present ? 'ok' : 'missing',
      detail: r.present ? 'supported by the kernel' : r.detail,
      hint: r.present ? undefined : (q.hint ?? `modprobe ${MODULE_OF[q.feature]}`),
      needed_for: q.needed_for,
    });
  }
  const ipt = await run(['iptables', '-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.5', '-m', 'comment', '--comment', 'kiboko-doctor', '-j', 'DROP']);
  const version = (await run(['iptables', '--version'])).stdout.trim();
  checks.push(commandCheck('iptables statistic+comment', ipt, { ok: `${version || 'iptables'}: statistic and comment matches work`, hint: 'install iptables with the xt_statistic and xt_comment matches (modprobe xt_statistic xt_comment)', neededFor: 'iptables loss, partition' }));
  // chaos proxy / chaos delay without netem: nat REDIRECT with an owner match, and conntrack for outgoing faults.
  const redirect = await run(['iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-m', 'owner', '!', '--gid-owner', String(PROXY_GID), '-m', 'comment', '--comment', 'kiboko-doctor', '-j', 'REDIRECT', '--to-ports', '1']);
  checks.push(commandCheck('iptables nat REDIRECT+owner', redirect, { ok: 'transparent redirection to the fault proxy works', hint: 'modprobe xt_REDIRECT xt_owner nf_nat (iptable_nat on legacy iptables)', neededFor: 'chaos proxy, chaos delay without netem' }));
  const conntrack = await run(['cat', '/proc/net/nf_conntrack']);
  checks.push(
    commandCheck('conntrack table', conntrack, {
      ok: '/proc/net/nf_conntrack is readable (original destinations of redirected connections)',
      failed: (conntrack.stderr || conntrack.stdout).trim() || 'not readable',
      hint: 'modprobe nf_conntrack (and nf_conntrack procfs); without it only incoming proxy faults (--port) work',
      neededFor: 'chaos proxy --to (outgoing), partition --direction to|from',
    }),
  );
  const nft = await run(['nft', '--version']);
  checks.push(commandCheck('nft', nft, { ok: nft.stdout.trim(), failed: 'not found', status: 'warn', hint: 'install nftables so kiboko can remove the empty filter table iptables-nft leaves behind (exact restore)', neededFor: 'byte-exact iptables restore' }));
  return checks;
}

/** With nsenter (root beside the engine) some faults run host programs: the proxy agent, stress-ng. */
async function hostToolChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  let agent = '';
  try {
    agent = agentScriptPath();
  } catch {
    // reported below
  }
  checks.push({
    name: 'fault proxy agent',
    status: agent ? 'ok' : 'missing',
    detail: agent ? `${process.execPath} ${agent} (entered into target namespaces with nsenter)` : 'dist/proxy-agent.mjs is missing',
    hint: agent ? undefined : 'rebuild kiboko (npm run build)',
    needed_for: 'chaos proxy, chaos delay without netem',
  });
  const stress = await execFileResult('stress-ng', ['--version']);
  checks.push(commandCheck('stress-ng', stress, { ok: stress.stdout.trim(), failed: 'not found on the host', hint: 'apt-get install stress-ng, or pass --stress-image IMAGE', neededFor: 'stress' }));
  return checks;
}

/**
 * A check from one command's result: ok when it exited 0 (detail `ok`); otherwise `status`
 * (default missing) with `failed` as detail (default: what the command printed) and the hint.
 */
export function commandCheck(name: string, r: { code: number | null; stdout: string; stderr: string }, c: { ok: string; failed?: string; status?: 'missing' | 'warn'; hint: string; neededFor: string }): Check {
  const ok = r.code === 0;
  return { name, status: ok ? 'ok' : (c.status ?? 'missing'), detail: ok ? c.ok : (c.failed ?? (r.stderr || r.stdout).trim()), hint: ok ? undefined : c.hint, needed_for: c.neededFor };
}

export function checkError(name: string, err: unknown): Check {
  const e = asKibokoError(err);
  return { name, status: 'error', detail: e.message, hint: e.hint };
}
