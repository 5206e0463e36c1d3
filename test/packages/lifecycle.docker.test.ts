import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromBusybox, docker, events, IMAGE, runCli, scope, TEST_LABEL } from '../helpers.js';

const s = scope('life-m');
const OK = `kiboko-pkgtest/validate-ok:${s.id}`;
const BAD = `kiboko-pkgtest/validate-bad:${s.id}`;

/** Builds a one-layer image FROM the local busybox image with the given LABEL lines (through the engine, no registry). */
const buildImage = (tag: string, labelLines: string[]) => buildFromBusybox(tag, labelLines, `${TEST_LABEL}.image=${s.id}`);

const name = (n: string) => `${s.prefix}${n}`;
const byContainer = (stdout: string) => {
  const done = events(stdout).find((e) => e.event === 'lifecycle-finished') as { code: number; results: { container: string; code: number; outcome: string; exitCode?: number }[] };
  return { code: done.code, results: Object.fromEntries(done.results.map((r) => [r.container.slice(s.prefix.length), r])) };
};

beforeAll(async () => {
  await buildImage(OK, [`LABEL kiboko.method.validate="sh -c 'echo validated \\$HOSTNAME'"`]);
  await buildImage(BAD, [`LABEL kiboko.method.validate="sh -c 'echo database unreachable >&2; exit 1'"`]);
  const run = async (n: string, image: string) => {
    const c = await docker.createContainer({ Image: image, name: name(n), Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'], Labels: { [TEST_LABEL]: s.id, 'kiboko.managed': 'true' } });
    await c.start();
  };
  await Promise.all([run('ok', OK), run('bad', BAD), run('none', IMAGE)]);
  await docker.createContainer({ Image: OK, name: name('stopped'), Labels: { [TEST_LABEL]: s.id } });
});

afterAll(async () => {
  await s.cleanup();
  for (const tag of [OK, BAD]) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
});

describe('kiboko lifecycle (real engine)', () => {
  it('validate across several containers: 0 ok, 1 failed, 2 not declared, each visible; exit = the worst (1)', async () => {
    const r = await runCli(['lifecycle', '--json', 'validate', name('ok'), name('bad'), name('none')]);
    expect(r.code, r.stderr).toBe(1);
    const { code, results } = byContainer(r.stdout);
    expect(code).toBe(1);
    expect(results.ok).toMatchObject({ code: 0, outcome: 'ok', exitCode: 0 });
    expect(results.bad).toMatchObject({ code: 1, outcome: 'failed', exitCode: 1 });
    expect(results.none).toMatchObject({ code: 2, outcome: 'not-declared' });
    // The method's own output is streamed, per container.
    expect(events(r.stdout)).toContainEqual(expect.objectContaining({ event: 'method-output', container: name('bad'), stream: 'stderr', text: 'database unreachable\n' }));
  });

  it('one container at a time: exit 0, 1 and 2 exactly as the method and its declaration dictate', async () => {
    const ok = await runCli(['lifecycle', 'validate', name('ok')]);
    expect(ok.code, ok.stderr).toBe(0);
    // Output passes through unprefixed for one container; the hostname is the container's short id.
    expect(ok.stdout).toMatch(/^validated [0-9a-f]{12}\n$/);
    expect(ok.stderr).toContain(`✔ ${name('ok')}: validate ok (exit 0`);
    expect((await runCli(['lifecycle', 'validate', name('bad')])).code).toBe(1);
    expect((await runCli(['lifecycle', 'validate', name('none')])).code).toBe(2);
  });

  it('a stopped or missing container could not run (3); --all picks only running containers that declare it', async () => {
    const r = await runCli(['lifecycle', '--json', 'validate', name('stopped'), name('ghost'), name('none')]);
    expect(r.code).toBe(3);
    const { results } = byContainer(r.stdout);
    expect(results.stopped).toMatchObject({ code: 3, reason: 'container is created, not running' });
    expect(results.ghost).toMatchObject({ code: 3 });
    expect(results.none).toMatchObject({ code: 2 });

    const all = await runCli(['lifecycle', '--json', 'validate', '--all', '--label', `${TEST_LABEL}=${s.id}`]);
    expect(all.code).toBe(1);
    expect(Object.keys(byContainer(all.stdout).results).sort()).toEqual(['bad', 'ok']);
  });

  it('several containers in human mode: output lines prefixed with the container name, a summary at the end', async () => {
    const r = await runCli(['lifecycle', 'validate', `re2:^${s.prefix}(ok|bad)$`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${name('ok')} \\| validated [0-9a-f]{12}$`, 'm'));
    expect(r.stderr).toContain(`${name('bad')} | database unreachable`);
    expect(r.stderr).toContain('validate: 1 failed, 1 ok → exit 1');
  });
});
