import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalFiles, runCli, scope, state } from '../helpers.js';

const s = scope('bad');
let id = '';
beforeAll(async () => {
  id = await s.create('victim');
});
afterAll(() => s.cleanup());

const oneLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kiboko: .+ — .+/); // message — hint
};

describe('bad input is refused with one clear line, a non-zero exit, and nothing touched', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown flag', ['chaos', 'kill', '--frobnicate', 'VICTIM'], /unknown option '--frobnicate'/],
    ['bad duration', ['chaos', 'pause', '--duration', '10', 'VICTIM'], /invalid --duration '10': missing unit/],
    ['garbage duration', ['chaos', 'pause', '--duration', 'soon', 'VICTIM'], /invalid --duration 'soon'/],
    ['bad interval', ['chaos', '--interval', '1x', 'kill', 'VICTIM'], /invalid --interval '1x'/],
    ['bad regex', ['chaos', 'kill', 're2:^(x'], /invalid regex 're2:\^\(x': missing closing \)/],
    ['bad label', ['chaos', 'kill', '--label', '=x', 'VICTIM'], /invalid label filter/],
    ['bad limit', ['chaos', 'kill', '--limit', 'many', 'VICTIM'], /invalid --limit 'many'/],
    ['no target for kill', ['chaos', 'kill'], /no target given/],
    ['no target for rm', ['chaos', 'rm'], /no target given/],
    ['pause without duration', ['chaos', 'pause', 'VICTIM'], /--duration is required/],
    ['unknown command', ['chaos', 'explode', 'VICTIM'], /unknown command 'explode'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await runCli(
        args.map((a) => a.replace('VICTIM', `${s.prefix}victim`)),
        { stateDir: s.stateDir },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      oneLine(r.stderr);
      expect(r.stdout).toBe('');
      expect((await state(id)).status).toBe('running');
      expect(journalFiles(s.stateDir)).toHaveLength(0);
    });
  }

  it('no engine (unix socket that does not exist): exit 3, one line naming the address, with a hint', async () => {
    const r = await runCli(['chaos', 'kill', `${s.prefix}victim`], { stateDir: s.stateDir, env: { DOCKER_HOST: 'unix:///tmp/kiboko-no-such.sock' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach the Docker engine at unix:\/\/\/tmp\/kiboko-no-such\.sock/);
    oneLine(r.stderr);
    expect((await state(id)).status).toBe('running');
  });

  it('no engine (tcp port with nothing listening, via --host): exit 3', async () => {
    const srv = createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const port = (srv.address() as AddressInfo).port;
    await new Promise((res) => srv.close(res)); // now nothing listens there
    const r = await runCli(['chaos', '-H', `tcp://127.0.0.1:${port}`, 'kill', `${s.prefix}victim`], { stateDir: s.stateDir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`cannot reach the Docker engine at tcp://127\\.0\\.0\\.1:${port}`));
    oneLine(r.stderr);
  });

  it('--tlsverify without certificates: a clear error before connecting', async () => {
    const r = await runCli(['chaos', '-H', 'tcp://127.0.0.1:2376', '--tlsverify', 'kill', `${s.prefix}victim`], {
      stateDir: s.stateDir,
      env: { DOCKER_CERT_PATH: '/tmp/kiboko-no-certs-here' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read --tlscacert/);
    oneLine(r.stderr);
  });

  it('an explicit --host to the real socket works, as does DOCKER_HOST', async () => {
    const a = await runCli(['chaos', '--dry-run', '-H', 'unix:///var/run/docker.sock', 'kill', `${s.prefix}victim`], { stateDir: s.stateDir });
    expect(a.code, a.stderr).toBe(0);
    const b = await runCli(['chaos', '--dry-run', 'kill', `${s.prefix}victim`], { stateDir: s.stateDir, env: { DOCKER_HOST: 'unix:///var/run/docker.sock' } });
    expect(b.code, b.stderr).toBe(0);
    expect((await state(id)).status).toBe('running');
  });

  it('--json errors are one JSON line with code, message and hint', async () => {
    const r = await runCli(['chaos', '--json', 'kill', 're2:(('], { stateDir: s.stateDir });
    expect(r.code).toBe(2);
    const line = JSON.parse(r.stdout.trim());
    expect(line.error.code).toBe('INVALID_ARGUMENT');
    expect(line.error.hint).toBeTruthy();
  });
});

describe('notifications', () => {
  it('--notify POSTs the cycle summary and the result as JSON; --slackhook posts Slack-style text', async () => {
    const bodies: { url: string; body: Record<string, unknown> }[] = [];
    const srv = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', body: JSON.parse(data) });
        res.end('ok');
      });
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    await s.create('notified');
    const r = await runCli(
      ['chaos', '--notify', `${base}/hook`, '--slackhook', `${base}/slack`, '--slackchannel', '#chaos', 'restart', `${s.prefix}notified`],
      { stateDir: s.stateDir },
    );
    srv.close();
    expect(r.code, r.stderr).toBe(0);
    const hooks = bodies.filter((b) => b.url === '/hook').map((b) => (b.body.event as { type: string }).type);
    expect(hooks).toEqual(['cycle-finished', 'run-finished']);
    const slack = bodies.filter((b) => b.url === '/slack');
    expect(slack.length).toBe(2);
    expect(slack[0]!.body.channel).toBe('#chaos');
    expect(String(slack[0]!.body.text)).toMatch(/restart/);
  });
});
