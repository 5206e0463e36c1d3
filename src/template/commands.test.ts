import { describe, expect, it } from 'vitest';
import { checkArgv, checkScript, runCommand, splitWords } from './commands.js';

describe('check_cmd: {{.src}} becomes "$1", never spliced text', () => {
  it('quotes $1 for where it stands', () => {
    expect(checkScript('nginx -t -c {{.src}}')).toBe('nginx -t -c "$1"');
    expect(checkScript('nginx -t -c {{ .src }}')).toBe('nginx -t -c "$1"');
    expect(checkScript('test -s "{{.src}}"')).toBe('test -s "$1"');
    expect(checkScript("grep -q x '{{.src}}'")).toBe(`grep -q x ''"$1"''`);
    expect(checkScript('echo \\"{{.src}}')).toBe('echo \\""$1"');
  });

  it('refuses other template actions', () => {
    expect(() => checkScript('cat {{.dest}}')).toThrow(/unsupported template action/);
  });

  it('a staged path with shell syntax stays one literal argument', async () => {
    const evil = '/tmp/x; touch /tmp/kiboko-pwned $(id)';
    const r = await runCommand(checkArgv('printf %s {{.src}}', evil), { timeoutMs: 5_000 });
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe(evil);
    const q = await runCommand(checkArgv("printf %s '{{.src}}'", evil), { timeoutMs: 5_000 });
    expect(q.output).toBe(evil);
  });
});

describe('runCommand', () => {
  it('reports exit codes and output', async () => {
    const r = await runCommand(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 5_000 });
    expect(r).toMatchObject({ exitCode: 3, timedOut: false, cancelled: false });
    expect(r.output).toContain('out');
    expect(r.output).toContain('err');
  });

  it('kills the whole process group on timeout', async () => {
    const r = await runCommand(['/bin/sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('a missing program is a failure, not a crash', async () => {
    const r = await runCommand(['/nonexistent/kiboko-nothing'], { timeoutMs: 1_000 });
    expect(r.exitCode).not.toBe(0);
  });
});

describe('splitWords', () => {
  it('splits like sh', () => {
    expect(splitWords(`kill -HUP 1`)).toEqual(['kill', '-HUP', '1']);
    expect(splitWords(`a "b c" 'd e' f\\ g ""`)).toEqual(['a', 'b c', 'd e', 'f g', '']);
    expect(() => splitWords('a "b')).toThrow(/unterminated/);
  });
});
