import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildFromBusybox, dexec, docker, inNetns, runCli } from '../helpers.js';
import { freePort } from '../ports.js';

/**
 * awesome-compose stacks (../shared/compat/compose-corpus) applied for real. No registry here,
 * so each file is rewritten as little as possible: every `image:` becomes one local busybox app
 * (it serves HTTP on the service's ports and on 7777), commands that only the real images
 * understand go, healthchecks test `true`, host ports move to free ones, container_name gets
 * the run id; `build:` sections are kept and built by kiboko from generated contexts (with their
 * targets); secret files, .env values and bind sources are created. Then: plan empty after
 * apply, ports answer, secrets at /run/secrets with mode 0444, compose labels (docker-compose v1
 * lists the containers), and `down --volumes` leaves nothing of the project.
 */
const RUN = Math.random().toString(16).slice(2, 8);
const APP = `kiboko-test/stack-app:${RUN}`;
// Beside the repository (../shared), or beside the worktree folder, or where KIBOKO_COMPOSE_CORPUS says.
const CORPUS_ROOT = [process.env.KIBOKO_COMPOSE_CORPUS, resolve(import.meta.dirname, '../../../shared/compat/compose-corpus'), resolve(import.meta.dirname, '../../../../shared/compat/compose-corpus')].find(
  (d): d is string => Boolean(d && existsSync(d)),
);
const CORPUS = join(CORPUS_ROOT ?? '', 'awesome-compose');
const root = mkdtempSync(join(tmpdir(), 'kiboko-stacks-'));
const stateDir = join(root, 'state');
const sh = promisify(execFile);

const SERVE = `#!/bin/sh
mkdir -p /www && echo "$HOSTNAME" > /www/index.html
for p in 7777 $SERVE_PORTS; do httpd -p "$p" -h /www; done
trap "exit 0" TERM INT HUP
while :; do sleep 1; done
`;

type Service = Record<string, unknown>;

/** Container ports of a service's ports: and expose: entries. */
function containerPorts(svc: Service): number[] {
  const out: number[] = [];
  for (const p of (svc.ports as unknown[] | undefined) ?? []) {
    if (typeof p === 'object' && p) out.push(Number((p as { target: number }).target));
    else out.push(Number(String(p).split('/')[0]!.split(':').pop()));
  }
  for (const e of (svc.expose as unknown[] | undefined) ?? []) out.push(Number(String(e).split('/')[0]));
  return [...new Set(out.filter((n) => Number.isInteger(n) && n > 0))];
}

interface Stack {
  name: string;
  dir: string;
  file: string;
  project: string;
  /** host port → service, for the ports that must answer. */
  published: { port: number; service: string }[];
  secrets: { service: string; name: string; target: string; content: string }[];
  services: string[];
}

/** Copies a corpus stack and rewrites it to run here (see the file comment). */
async function prepare(name: string, env: Record<string, string> = {}): Promise<Stack> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'compose.yaml');
  cpSync(join(CORPUS, name, 'compose.yaml'), file);
  const doc = parse(readFileSync(file, 'utf8')) as { services: Record<string, Service>; secrets?: Record<string, { file?: string }> };
  const published: Stack['published'] = [];
  const secrets: Stack['secrets'] = [];
  const secretText = (n: string) => `${n}-${RUN}-s3cret`;
  for (const [sname, svc] of Object.entries(doc.services)) {
    delete svc.command;
    delete svc.entrypoint;
    if (svc.healthcheck && typeof svc.healthcheck === 'object') (svc.healthcheck as Record<string, unknown>).test = ['CMD', 'true'];
    const ports = containerPorts(svc);
    const envList = svc.environment;
    if (Array.isArray(envList)) envList.push(`SERVE_PORTS=${ports.join(' ')}`);
    else svc.environment = { ...(envList as Record<string, string> | undefined), SERVE_PORTS: ports.join(' ') };
    if (svc.build !== undefined) {
      const b = typeof svc.build === 'string' ? { context: svc.build } : (svc.build as { context?: string; dockerfile?: string; target?: string });
      const ctx = resolve(dir, b.context ?? '.');
      mkdirSync(ctx, { recursive: true });
      const stage = b.target ? ` AS ${b.target}` : '';
      writeFileSync(join(ctx, b.dockerfile ?? 'Dockerfile'), `FROM ${APP}${stage}\nRUN echo built-${sname} > /built\n`);
      // image: next to build: names the result; keep it unique to this run.
      if (svc.image) svc.image = `kiboko-test/stack-${RUN}-${sname}:built`;
    } else {
      svc.image = APP;
    }
    if (svc.container_name) svc.container_name = `${String(svc.container_name)}-${RUN}`;
    if (Array.isArray(svc.ports)) {
      svc.ports = await Promise.all(
        (svc.ports as unknown[]).map(async (p) => {
          const host = await freePort();
          const target = typeof p === 'object' && p ? Number((p as { target: number }).target) : Number(String(p).split('/')[0]!.split(':').pop());
          const proto = typeof p === 'string' && p.includes('/') ? `/${p.split('/')[1]}` : '';
          if (!proto || proto === '/tcp') published.push({ port: host, service: sname });
          return `127.0.0.1:${host}:${target}${proto}`;
        }),
      );
    }
    for (const v of (svc.volumes as unknown[] | undefined) ?? []) {
      const source = typeof v === 'string' ? (v.split(':').length > 1 ? v.split(':')[0] : undefined) : (v as { type?: string; source?: string }).type === 'bind' ? (v as { source: string }).source : undefined;
      if (!source || !/^[.~/]/.test(source)) continue;
      const abs = resolve(dir, source);
      if (existsSync(abs)) continue;
      if (extname(abs)) {
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, `# generated for ${sname}\n`);
      } else mkdirSync(abs, { recursive: true });
    }
    for (const s of (svc.secrets as unknown[] | undefined) ?? []) {
      const sn = typeof s === 'string' ? s : (s as { source: string }).source;
      const target = typeof s === 'object' && (s as { target?: string }).target ? String((s as { target: string }).target) : sn;
      secrets.push({ service: sname, name: sn, target: target.startsWith('/') ? target : `/run/secrets/${target}`, content: secretText(sn) });
    }
  }
  for (const [sn, def] of Object.entries(doc.secrets ?? {})) {
    if (def.file) {
      mkdirSync(dirname(resolve(dir, def.file)), { recursive: true });
      writeFileSync(resolve(dir, def.file), secretText(sn));
    }
  }
  writeFileSync(file, stringify(doc));
  if (Object.keys(env).length) writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return { name, dir, file, project: `kst-${name.replace(/[^a-z0-9]/g, '')}-${RUN}`.slice(0, 60), published, secrets, services: Object.keys(doc.services) };
}

const deploy = (s: Stack, args: string[]) => runCli(['deploy', ...args, '-f', s.file, '-p', s.project], { stateDir });

const projectContainers = (project: string) => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) });
const anyOfProject = async (project: string) => {
  const byKiboko = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) });
  const nets = [
    ...(await docker.listNetworks({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) })),
    ...(await docker.listNetworks({ filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) })),
  ];
  const vols = [
    ...((await docker.listVolumes({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${project}`] }) })).Volumes ?? []),
    ...((await docker.listVolumes({ filters: JSON.stringify({ label: [`com.docker.compose.project=${project}`] }) })).Volumes ?? []),
  ];
  return { containers: [...(await projectContainers(project)), ...byKiboko].length, networks: nets.length, volumes: vols.length };
};

async function httpOk(port: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return true;
    } catch {
      // the front or the replica is still coming up
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const stacks: Stack[] = [];

beforeAll(async () => {
  // Not the kiboko.test label: containers inherit it from the image, and every docker test run's
  // global setup removes what carries it (other runs on the shared engine would kill the stacks).
  await buildFromBusybox(APP, ['COPY serve.sh /serve.sh', 'CMD ["sh", "/serve.sh"]'], `kiboko.stack-test=${RUN}`, { 'serve.sh': SERVE });
}, 120_000);

afterAll(async () => {
  if (process.env.KIBOKO_TEST_KEEP) return; // debugging: leave the stacks as they are
  for (const s of stacks) await runCli(['deploy', 'down', '-p', s.project, '--volumes', '--rmi', 'local'], { stateDir }).catch(() => undefined);
  await docker.getImage(APP).remove({ force: true }).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}, 180_000);

/** The stacks applied for real, with what their files exercise. */
const STACKS: { name: string; env?: Record<string, string> }[] = [
  { name: 'nginx-golang-mysql' }, // build target, secrets, service_healthy, expose, named volume, read-only bind
  { name: 'react-express-mysql' }, // two builds with args/targets, secrets, public/private networks, anonymous volume
  { name: 'wordpress-mysql' }, // plain images, restart: always, expose
  { name: 'flask-redis' }, // build of context ., stop_signal
  { name: 'prometheus-grafana' }, // container_name, restart: unless-stopped, named volume
  { name: 'postgresql-pgadmin', env: { POSTGRES_USER: 'u', POSTGRES_PW: 'pw', POSTGRES_DB: 'db', PGADMIN_MAIL: 'a@b.c', PGADMIN_PW: 'pw' } }, // .env interpolation, container_name
  { name: 'spring-postgres' }, // build: <string>, secrets, a named network
  { name: 'nginx-flask-mongo' }, // build target, a service with no ports
];

it.skipIf(CORPUS_ROOT !== undefined)('skipped: the compose corpus (../shared/compat/compose-corpus) is not beside the repository', () => {});

describe.skipIf(CORPUS_ROOT === undefined)('awesome-compose stacks applied for real', () => {
  for (const { name, env } of STACKS) {
    it(`${name}: apply, plan empty, ports answer, secrets at their paths, compose labels, down --volumes leaves nothing`, async () => {
      const s = await prepare(name, env);
      stacks.push(s);
      const apply = await deploy(s, ['up', '-d']);
      expect(apply.code, apply.stdout + apply.stderr).toBe(0);
      const plan = await deploy(s, ['plan']);
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);

      for (const p of s.published) expect(await httpOk(p.port), `${s.name} ${p.service} on ${p.port}`).toBe(true);

      const containers = await projectContainers(s.project);
      expect(new Set(containers.map((c) => c.Labels['com.docker.compose.service']))).toEqual(new Set(s.services));
      for (const c of containers) {
        expect(c.Labels).toMatchObject({ 'com.docker.compose.project': s.project, 'com.docker.compose.oneoff': 'False', 'com.docker.compose.container-number': '1' });
        expect(c.Labels['com.docker.compose.project.config_files']).toBe(s.file);
      }
      for (const sec of s.secrets) {
        const c = containers.find((x) => x.Labels['com.docker.compose.service'] === sec.service)!;
        const read = await dexec(c.Id, ['sh', '-c', `stat -c %a ${sec.target} && cat ${sec.target}`]);
        // dexec's output keeps the engine's stream frame headers: drop control bytes.
        const lines = read.out.split('\n').map((l) => l.replace(/[\x00-\x1f\s]+/g, '')).filter(Boolean);
        expect(lines, `${s.name} ${sec.service} ${sec.target}`).toEqual(['444', sec.content]);
      }
      // docker-compose v1 (Debian's) sees kiboko's containers as the project's.
      const v1 = await sh('docker-compose', ['-p', s.project, '-f', s.file, 'ps', '-q'], { cwd: s.dir }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: '', stderr: String(e.stderr) }));
      expect(v1.stdout.trim().split('\n').filter(Boolean).length, v1.stderr).toBe(containers.length);

      const down = await deploy(s, ['down', '--volumes']);
      expect(down.code, down.stdout + down.stderr).toBe(0);
      expect(await anyOfProject(s.project)).toEqual({ containers: 0, networks: 0, volumes: 0 });
    }, 420_000);
  }
});

describe('compose project semantics on the real engine', () => {
  const write = (name: string, text: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'compose.yaml'), text);
    return join(dir, 'compose.yaml');
  };

  it('-p wins over the top-level name:', async () => {
    const file = write('named', `name: prod-${RUN}\nservices:\n  web:\n    image: ${APP}\n`);
    const r = await runCli(['deploy', 'plan', '--json', '-f', file, '-p', `staging-${RUN}`], { stateDir });
    expect(JSON.parse(r.stdout).plan.project).toBe(`staging-${RUN}`);
    const named = await runCli(['deploy', 'plan', '--json', '-f', file], { stateDir });
    expect(JSON.parse(named.stdout).plan.project).toBe(`prod-${RUN}`);
  });

  it('a service joins only the networks it lists: backend-only cannot reach frontend-only (connection attempt); one on both can', async () => {
    const project = `kst-isolation-${RUN}`;
    const file = write(
      'isolation',
      `services:
  front:
    image: ${APP}
    networks: [frontend]
  back:
    image: ${APP}
    networks: [backend]
  both:
    image: ${APP}
    networks: [frontend, backend]
networks:
  frontend:
  backend:
`,
    );
    stacks.push({ name: 'isolation', dir: dirname(file), file, project, published: [], secrets: [], services: ['front', 'back', 'both'] });
    const up = await runCli(['deploy', 'up', '-d', '-f', file, '-p', project], { stateDir });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const byService = Object.fromEntries((await projectContainers(project)).map((c) => [c.Labels['com.docker.compose.service'], c]));
    expect(Object.keys(byService.back!.NetworkSettings.Networks)).toEqual([`${project}_backend`]);
    expect(Object.keys(byService.front!.NetworkSettings.Networks)).toEqual([`${project}_frontend`]);
    const frontIp = byService.front!.NetworkSettings.Networks[`${project}_frontend`]!.IPAddress;
    // A TCP connection from inside the service's network namespace (busybox-static's wget crashes, its nc cannot tell).
    const attempt = (from: string, ip: string) =>
      inNetns(byService[from]!.Id, [
        process.execPath,
        '-e',
        `const s=require('net').connect({host:${JSON.stringify(ip)},port:7777,timeout:3000});s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)})`,
      ]).then((out) => out.trim());
    expect(await attempt('back', frontIp)).not.toBe('connected');
    expect(await attempt('both', frontIp)).toBe('connected');
    const down = await runCli(['deploy', 'down', '-p', project], { stateDir });
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect((await anyOfProject(project)).containers).toBe(0);
  }, 180_000);

  it('adopts a project docker-compose (v1) started: a plan with causes, then kiboko replicas and no duplicates', async () => {
    const project = `kstadopt${RUN}`;
    const port = await freePort();
    const file = write(
      'adopt',
      `services:
  web:
    image: ${APP}
    environment:
      SERVE_PORTS: "80"
    ports:
      - "127.0.0.1:${port}:80"
  cache:
    image: ${APP}
volumes:
  data:
`,
    );
    stacks.push({ name: 'adopt', dir: dirname(file), file, project, published: [], secrets: [], services: ['web', 'cache'] });
    await sh('docker-compose', ['-p', project, '-f', file, 'up', '-d'], { cwd: dirname(file) });
    const v1 = await projectContainers(project);
    expect(v1.map((c) => c.Names[0]).sort()).toEqual([`/${project}_cache_1`, `/${project}_web_1`]);
    const plan = await runCli(['deploy', 'plan', '--json', '-f', file, '-p', project], { stateDir });
    expect(plan.code).toBe(10);
    const steps = JSON.parse(plan.stdout).plan.steps as { service: string; action: string; causes: string[] }[];
    for (const s of steps) {
      expect(s.action).toBe('update');
      expect(s.causes.join(';')).toMatch(/adopt 1 container\(s\) started by docker compose/);
    }
    const apply = await runCli(['deploy', 'apply', '-f', file, '-p', project], { stateDir });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const after = await projectContainers(project);
    expect(after.map((c) => c.Names[0]).sort()).toEqual([`/${project}-cache-1`, `/${project}-web-1`]);
    expect(after.every((c) => c.Labels['kiboko.deploy.project'] === project && c.State === 'running')).toBe(true);
    expect(await httpOk(port)).toBe(true);
    const again = await runCli(['deploy', 'plan', '-f', file, '-p', project], { stateDir });
    expect(again.code, again.stdout).toBe(0);
    const down = await runCli(['deploy', 'down', '-p', project, '--volumes'], { stateDir });
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(await anyOfProject(project)).toEqual({ containers: 0, networks: 0, volumes: 0 });
  }, 180_000);
});
