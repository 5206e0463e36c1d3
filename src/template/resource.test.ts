import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { globMatch, loadResources, parseMode, parseResource } from './resource.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const NGINX = `
[template]
src = "nginx.conf.tmpl"
dest = "/etc/nginx/nginx.conf"
keys = ["/nginx", "/app/upstream"]
prefix = "production"
mode = "0640"
uid = 0
gid = 33
check_cmd = "/usr/sbin/nginx -t -c {{.src}}"
reload_cmd = "/usr/sbin/service nginx reload"
`;

describe('template resources (confd TOML)', () => {
  it('parses every field', () => {
    const r = parseResource(NGINX, '/etc/confd/conf.d/nginx.toml', '/etc/confd/templates');
    expect(r).toEqual({
      file: '/etc/confd/conf.d/nginx.toml',
      name: 'nginx.toml',
      src: '/etc/confd/templates/nginx.conf.tmpl',
      dest: '/etc/nginx/nginx.conf',
      keys: ['/nginx', '/app/upstream'],
      prefix: '/production',
      mode: 0o640,
      uid: 0,
      gid: 33,
      checkCmd: '/usr/sbin/nginx -t -c {{.src}}',
      reloadCmd: '/usr/sbin/service nginx reload',
    });
  });

  it('a global prefix replaces the resource prefix', () => {
    expect(parseResource(NGINX, 'n.toml', '/t', { prefix: '/staging' }).prefix).toBe('/staging');
  });

  it('reports unknown keys (confd ignores them silently)', () => {
    const warnings: string[] = [];
    parseResource('[template]\nsrc = "a"\ndest = "/b"\nowner = "postgres"\n', 'a.toml', '/t', { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringContaining("unknown key 'owner' ignored")]);
  });

  it('refuses what confd would misread or lacks', () => {
    expect(() => parseResource('[template]\ndest = "/b"\n', 'a.toml', '/t')).toThrow(/needs 'src'/);
    expect(() => parseResource('src = "a"\n', 'a.toml', '/t')).toThrow(/expected a \[template\] table/);
    expect(() => parseResource('[template]\nsrc = "a"\ndest = "/b"\nkeys = "x"\n', 'a.toml', '/t')).toThrow(/array of strings/);
    expect(() => parseResource('[template\n', 'a.toml', '/t')).toThrow(/cannot parse/);
    expect(() => parseResource('[template]\nsrc = "a"\ndest = "/b"\ncheck_cmd = "x {{.dest}}"\n', 'a.toml', '/t')).toThrow(/unsupported template action in check_cmd of a.toml: \{\{.dest\}\}/);
  });

  it('reads modes as octal and refuses confd’s decimal trap', () => {
    expect(parseMode('0644', 'x')).toBe(0o644);
    expect(parseMode('0o600', 'x')).toBe(0o600);
    expect(() => parseMode('644', 'x')).toThrow(/expected an octal string/);
    expect(() => parseMode('0999', 'x')).toThrow();
  });

  it('globs like filepath.Match', () => {
    expect(globMatch('*toml', 'app.toml')).toBe(true);
    expect(globMatch('*toml', 'app.toml.bak')).toBe(false);
    expect(globMatch('*.y?ml', 'a.yaml')).toBe(true);
    expect(globMatch('[ab].json', 'b.json')).toBe(true);
  });

  it('loads a confd layout recursively, in lexical order, reporting every bad file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiboko-confd-'));
    mkdirSync(join(dir, 'conf.d', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'conf.d', 'b.toml'), '[template]\nsrc = "b.tmpl"\ndest = "/tmp/b"\nkeys = ["/b"]\n');
    writeFileSync(join(dir, 'conf.d', 'a.toml'), '[template]\nsrc = "a.tmpl"\ndest = "/tmp/a"\nkeys = ["/a"]\n');
    writeFileSync(join(dir, 'conf.d', 'sub', 'c.toml'), '[template]\nsrc = "c.tmpl"\ndest = "/tmp/c"\n');
    writeFileSync(join(dir, 'conf.d', 'notes.txt'), 'not a resource');
    const rs = await loadResources(dir);
    expect(rs.map((r) => r.name)).toEqual(['a.toml', 'b.toml', 'c.toml']);
    expect(rs[0]!.src).toBe(join(dir, 'templates', 'a.tmpl'));
    writeFileSync(join(dir, 'conf.d', 'bad1.toml'), '[template]\ndest = "/x"\n');
    writeFileSync(join(dir, 'conf.d', 'bad2.toml'), '[template]\nsrc = "x"\ndest = "/x"\nmode = "644"\n');
    await expect(loadResources(dir)).rejects.toThrow(/2 template resources are invalid/);
    await expect(loadResources(join(dir, 'nope'))).rejects.toThrow(/does not exist/);
  });
});
