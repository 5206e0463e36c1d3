import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/index.js';
import { buildHostToolsImage, NETTOOLS_IMAGE } from '../../src/images/index.js';
import { dexec, events, helperCount, inNetns, ipOf, iptablesSave, journalFiles, runCli, scope, startCli, state } from '../helpers.js';

const s = scope('net');
const HTTPD = ['sh', '-c', 'mkdir -p /www && dd if=/dev/zero of=/www/blob bs=1k count=1024 2>/dev/null && httpd -p 80 -h /www && httpd -p 81 -h /www && while true; do sleep 1; done'];

/** Whether this kernel has netem, asked the same way kiboko does: in a throwaway namespace. */
const kernelHasNetem = (() => {
  try {
    execFileSync('unshare', ['--net', '--', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

let a = '';
let b = '';
let c = '';
let ipA = '';
let ipB = '';
let ipC = '';
beforeAll(async () => {
  await buildHostToolsImage(await connectEngine(), NETTOOLS_IMAGE);
  [a, b, c] = await Promise.all([s.create('a', { cmd: HTTPD }), s.create('b', { cmd: HTTPD }), s.create('c', { cmd: HTTPD })]);
  [ipA, ipB, ipC] = await Promise.all([ipOf(a), ipOf(b), ipOf(c)]);
  // httpd needs a moment to listen
  for (const id of [a, b, c]) for (let i = 0; i < 50 && (await dexec(id, ['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1/blob'])).code !== 0; i++);
});
afterAll(() => s.cleanup());

const ping = (from: string, ip: string) => dexec(from, ['ping', '-c', '1', '-W', '1', ip]).then((r) => r.code === 0);
// busybox's `wget -T` crashes in Debian's static build; `timeout` bounds the wait instead.
const fetch80 = (from: string, ip: string, port = 80) => dexec(from, ['timeout', '3', 'wget', '-q', '-O', '/dev/null', `http://${ip}:${port}/blob`]);

describe('iptables loss (real engine, kernel state checked with nsenter)', () => {
  it('100% loss blocks ping to the target during the fault; traffic flows after; iptables-save is identical', async () => {
    const before = await iptablesSave(b);
    expect(await ping(a, ipB)).toBe(true);
    const p = startCli(['chaos', '--json', 'iptables', '-d', '4s', 'loss', '--probability', '1', `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await iptablesSave(b)).toMatch(/-A INPUT -i eth0 .*--comment "?kiboko:[0-9a-f-]+"? -j DROP/);
    expect(await ping(a, ipB)).toBe(false);
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    expect(await ping(a, ipB)).toBe(true);
    expect(await iptablesSave(b)).toBe(before);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('protocol and port filters affect only what they name', async () => {
    const p = startCli(['chaos', '--json', 'iptables', '-d', '6s', '-p', 'tcp', '--dport', '80', 'loss', '--probability', '1', `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect((await fetch80(a, ipB, 80)).code).not.toBe(0); // dropped
    expect((await fetch80(a, ipB, 81)).code).toBe(0); // another port
    expect(await ping(a, ipB)).toBe(true); // another protocol
    expect((await fetch80(a, ipC, 80)).code).toBe(0); // another container
    expect((await p.done).code).toBe(0);
    expect((await fetch80(a, ipB, 80)).code).toBe(0);
  });

  it('works the same through a helper container (--iptables-image), which never outlives the command', async () => {
    const before = await iptablesSave(b);
    const p = startCli(['chaos', '--json', 'iptables', '-d', '3s', '-p', 'icmp', '--iptables-image', NETTOOLS_IMAGE.tag, 'loss', '--probability', '1', `${s.prefix}b`], {
      stateDir: s.stateDir,
    });
    await p.waitForOutput('"fault-held"');
    expect(await helperCount()).toBe(0); // removed right after applying
    expect(await ping(a, ipB)).toBe(false);
    expect((await p.done).code).toBe(0);
    expect(await ping(a, ipB)).toBe(true);
    expect(await iptablesSave(b)).toBe(before);
    expect(await helperCount()).toBe(0);
  });
});

describe('partition (real engine)', () => {
  it('cuts both directions between the named containers, and only them', async () => {
    const p = startCli(['chaos', '--json', 'partition', '-d', '5s', '--peer', `${s.prefix}b`, `${s.prefix}a`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await ping(a, ipB)).toBe(false);
    expect(await ping(b, ipA)).toBe(false);
    expect(await ping(a, ipC)).toBe(true);
    expect(await ping(c, ipA)).toBe(true);
    expect(await ping(b, ipC)).toBe(true);
    expect((await p.done).code).toBe(0);
    expect(await ping(a, ipB)).toBe(true);
    expect(await ping(b, ipA)).toBe(true);
  });

  it('accepts CIDRs as peers', async () => {
    const p = startCli(['chaos', '--json', 'partition', '-d', '3s', '--peer', `${ipC}/32`, `${s.prefix}a`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await ping(a, ipC)).toBe(false);
    expect(await ping(a, ipB)).toBe(true);
    expect((await p.done).code).toBe(0);
    expect(await ping(a, ipC)).toBe(true);
  });
});

describe('bandwidth limit without netem (tbf/htb)', () => {
  it('measurably lowers throughput from the target and is gone afterwards', async () => {
    const qdiscBefore = await inNetns(b, ['tc', 'qdisc', 'show']);
    const baseline = await fetch80(a, ipB);
    expect(baseline.code).toBe(0);
    const p = startCli(['chaos', '--json', 'rate', '-d', '30s', '--rate', '2mbit', `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await inNetns(b, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/qdisc tbf 6b69: root .*rate 2Mbit/);
    const limited = await dexec(a, ['wget', '-q', '-O', '/dev/null', `http://${ipB}/blob`]);
    expect(limited.code).toBe(0);
    // 1 MiB at 2 Mbit/s takes ≥ 4 s; unlimited it is well under a second here.
    console.log(`1 MiB transfer: ${baseline.ms} ms unlimited, ${limited.ms} ms at 2mbit`);
    expect(limited.ms).toBeGreaterThan(3500);
    expect(limited.ms).toBeGreaterThan(baseline.ms * 4);
    p.child.kill('SIGTERM'); // restores at once
    expect((await p.done).code).toBe(0);
    expect(await inNetns(b, ['tc', 'qdisc', 'show'])).toBe(qdiscBefore);
    const after = await fetch80(a, ipB);
    expect(after.ms).toBeLessThan(limited.ms / 2);
  });

  it('--target limits only traffic to that peer (htb + filter)', async () => {
    const p = startCli(['chaos', '--json', 'rate', '-d', '30s', '--rate', '2mbit', '--target', `${s.prefix}a`, `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await inNetns(b, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/qdisc htb 6b69: root/);
    const toA = await dexec(a, ['wget', '-q', '-O', '/dev/null', `http://${ipB}/blob`]);
    const toC = await dexec(c, ['wget', '-q', '-O', '/dev/null', `http://${ipB}/blob`]);
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(toA.ms).toBeGreaterThan(3500);
    expect(toC.ms).toBeLessThan(toA.ms / 3);
  });

  it('a second tc fault on the same interface is refused, naming the conflict; iptables beside it is fine', async () => {
    const p = startCli(['chaos', '--json', 'rate', '-d', '20s', '--rate', '1mbit', `${s.prefix}c`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    const second = await runCli(['chaos', 'rate', '-d', '2s', '--rate', '5mbit', `${s.prefix}c`], { stateDir: s.stateDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already carries a kiboko tc fault/);
    const other = await runCli(['chaos', 'iptables', '-d', '1s', '-p', 'icmp', 'loss', '--probability', '1', `${s.prefix}c`], { stateDir: s.stateDir });
    expect(other.code, other.stderr).toBe(0);
    expect(await inNetns(c, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/tbf 6b69:.*rate 1Mbit/); // the first is untouched
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(await inNetns(c, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/noqueue 0: root/);
  });
});

describe('restore on signals and after crashes', () => {
  it('SIGTERM mid-fault restores at once', async () => {
    const before = await iptablesSave(b);
    const p = startCli(['chaos', '--json', 'iptables', '-d', '60s', '-p', 'icmp', 'loss', '--probability', '1', `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    const t = Date.now();
    p.child.kill('SIGTERM');
    expect((await p.done).code).toBe(0);
    expect(Date.now() - t).toBeLessThan(5000);
    expect(await iptablesSave(b)).toBe(before);
  });

  it('SIGKILL mid-fault leaves a journal entry that `kiboko chaos recover` restores exactly (nsenter)', async () => {
    const before = await iptablesSave(b);
    const p = startCli(['chaos', '--json', 'partition', '-d', '60s', '--peer', `${s.prefix}a`, `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    p.child.kill('SIGKILL');
    await p.done;
    expect(await ping(a, ipB)).toBe(false); // nothing could restore it
    expect(journalFiles(s.stateDir)).toHaveLength(1);
    const r = await runCli(['chaos', 'recover'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recovered net of .*b.*restored/);
    expect(await ping(a, ipB)).toBe(true);
    expect(await iptablesSave(b)).toBe(before);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('SIGKILL mid-fault through a helper: the next run restores it automatically, and no helper remains', async () => {
    const qdiscBefore = await inNetns(a, ['tc', 'qdisc', 'show']);
    const p = startCli(['chaos', '--json', 'rate', '-d', '60s', '--rate', '1mbit', '--tc-image', NETTOOLS_IMAGE.tag, `${s.prefix}a`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    p.child.kill('SIGKILL');
    await p.done;
    expect(await inNetns(a, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/tbf 6b69:/);
    const next = await runCli(['chaos', '--json', 'restart', `${s.prefix}c`], { stateDir: s.stateDir });
    expect(next.code, next.stderr).toBe(0);
    expect(events(next.stdout).some((e) => e.event === 'recovery')).toBe(true);
    expect(await inNetns(a, ['tc', 'qdisc', 'show'])).toBe(qdiscBefore);
    expect(await helperCount()).toBe(0);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
  });

  it('a target restarted mid-fault closes its entry as target-replaced (the fault died with the old namespace)', async () => {
    const id = await s.create('restarted', { cmd: HTTPD });
    const p = startCli(['chaos', '--json', 'iptables', '-d', '4s', '-p', 'icmp', 'loss', '--probability', '1', `${s.prefix}restarted`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    await (await import('../helpers.js')).docker.getContainer(id).restart({ t: 0 });
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const finished = events(r.stdout).find((e) => e.event === 'action-finished') as { result: { detail: { restore: string } } };
    expect(finished.result.detail.restore).toBe('target-replaced');
    expect(journalFiles(s.stateDir)).toHaveLength(0);
    expect((await state(id)).status).toBe('running');
  });
});

describe('netem', () => {
  it('on a kernel without netem: a clear error naming sch_netem (exit 8), nothing half-applied', async () => {
    if (kernelHasNetem) return; // covered by the next test on kernels that have netem
    const qdiscBefore = await inNetns(b, ['tc', 'qdisc', 'show']);
    const r = await runCli(['chaos', 'netem', '--duration', '5s', 'delay', '--time', '100', `${s.prefix}b`], { stateDir: s.stateDir });
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/no netem support \(sch_netem\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await inNetns(b, ['tc', 'qdisc', 'show'])).toBe(qdiscBefore);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
    expect(await helperCount()).toBe(0);
  });

  it('netem rate without kernel netem falls back to a tbf limit, with a notice', async () => {
    if (kernelHasNetem) return; // with netem, netem rate is used as asked
    const p = startCli(['chaos', '--json', 'netem', '-d', '3s', 'rate', '--rate', '1mbit', `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await inNetns(b, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/tbf 6b69:.*rate 1Mbit/);
    const r = await p.done;
    expect(r.code).toBe(0);
    expect(events(r.stdout).some((e) => e.event === 'warning' && String(e.message).includes('no netem'))).toBe(true);
  });

  // Skipped here on purpose when the kernel has no sch_netem (this machine's kernel has none); the
  // reason is in the test name and printed by vitest. Where netem exists it asserts the qdisc and
  // an RTT increase of at least 75% of the injected delay.
  it.skipIf(!kernelHasNetem)('delay adds ≥ 75% of the injected delay to the RTT (skipped when the kernel has no sch_netem)', async () => {
    const rtt = async () => {
      const r = await dexec(a, ['ping', '-c', '5', '-i', '0.2', ipB]);
      return Number(/= [\d.]+\/([\d.]+)\//.exec(r.out)?.[1] ?? NaN);
    };
    const base = await rtt();
    const p = startCli(['chaos', '--json', 'netem', '-d', '10s', 'delay', '--time', '200', '--jitter', '0', `${s.prefix}b`], { stateDir: s.stateDir });
    await p.waitForOutput('"fault-held"');
    expect(await inNetns(b, ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(/netem 6b69: root .*delay 200ms/);
    const delayed = await rtt();
    p.child.kill('SIGTERM');
    await p.done;
    expect(delayed - base).toBeGreaterThanOrEqual(150);
  });
});

describe('stress (real engine, engine stats)', () => {
  const cpuRate = async (id: string) => {
    const sample = async () => ((await (await import('../helpers.js')).docker.getContainer(id).stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } }).cpu_stats.cpu_usage.total_usage;
    const x = await sample();
    await new Promise((r) => setTimeout(r, 1000));
    return ((await sample()) - x) / 1e9; // CPU-seconds per second
  };

  for (const [how, extra] of [
    ['on the host, in the target’s cgroup', [] as string[]],
    ['in a --stress-image helper nested under the target’s cgroup', ['--stress-image', 'kiboko/stress-ng:local']],
  ] as const) {
    it(`raises the target’s CPU use during the duration and stops after it (${how})`, async () => {
      if (extra.length) await buildHostToolsImage(await connectEngine(), (await import('../../src/images/index.js')).STRESS_IMAGE);
      const id = await s.create(`stress-${extra.length}`, { cmd: ['sleep', '3600'] });
      const idle = await cpuRate(id);
      const p = startCli(['chaos', '--json', 'stress', '-d', '5s', '--stressors', '--cpu 1', ...extra, `${s.prefix}stress-${extra.length}`], { stateDir: s.stateDir });
      await p.waitForOutput('"fault-held"');
      await new Promise((r) => setTimeout(r, 500));
      const busy = await cpuRate(id);
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const after = await cpuRate(id);
      console.log(`stress ${how}: ${idle.toFixed(2)} → ${busy.toFixed(2)} → ${after.toFixed(2)} CPU-s/s`);
      expect(busy).toBeGreaterThan(0.5);
      expect(after).toBeLessThan(0.1);
      expect(journalFiles(s.stateDir)).toHaveLength(0);
    });
  }
});

describe('kiboko doctor', () => {
  it('is right about this kernel: netem as the kernel says, tbf/htb and iptables present', async () => {
    const r = await runCli(['doctor', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const checks = JSON.parse(r.stdout).checks as { name: string; status: string; detail: string }[];
    const byName = (prefix: string) => checks.find((c) => c.name.startsWith(prefix))!;
    expect(byName('netem').status).toBe(kernelHasNetem ? 'ok' : 'missing');
    expect(byName('tbf').status).toBe('ok');
    expect(byName('htb').status).toBe('ok');
    expect(byName('iptables').status).toBe('ok');
    expect(byName('engine').status).toBe('ok');
    expect(byName('cgroups').detail).toMatch(/cgroup v\d, driver \w+/);
    const human = await runCli(['doctor']);
    expect(human.stdout).toMatch(kernelHasNetem ? /✔ netem/ : /✖ netem \(sch_netem\)/);
  });
});
