import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import {
  type UnitFile,
  entries,
  expandEnvironment,
  expandSpecifiers,
  fromOptions,
  lastSetting,
  listSetting,
  parseEnvironment,
  parseExec,
  parseUnitFile,
  parseUnitName,
  serialize,
  splitWords,
  toOptions,
} from './unitfile.js';

function failure(fn: () => unknown): KibokoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
    expect((err as KibokoError).hint).toBeTruthy();
    return err as KibokoError;
  }
  throw new Error('expected an error');
}

/** Sections and entries without line numbers. */
const shape = (u: UnitFile) => u.sections.map((s) => ({ name: s.name, entries: s.entries.map((e) => [e.key, e.value]) }));

const EXAMPLE = `[Unit]
Description=My service
After=docker.service
[Service]
ExecStartPre=-/usr/bin/docker kill myservice
ExecStartPre=-/usr/bin/docker rm myservice
ExecStart=/usr/bin/docker run --name myservice -p 3000:3000 myrepo/myservice:58-develop
ExecStop=/usr/bin/docker stop myservice
[X-Fleet]
Conflicts=myservice@*.service
`;

describe('parseUnitFile', () => {
  it('reads sections and keys, keeping repeated keys in order with their lines', () => {
    const u = parseUnitFile(EXAMPLE);
    expect(shape(u)).toEqual([
      { name: 'Unit', entries: [['Description', 'My service'], ['After', 'docker.service']] },
      {
        name: 'Service',
        entries: [
          ['ExecStartPre', '-/usr/bin/docker kill myservice'],
          ['ExecStartPre', '-/usr/bin/docker rm myservice'],
          ['ExecStart', '/usr/bin/docker run --name myservice -p 3000:3000 myrepo/myservice:58-develop'],
          ['ExecStop', '/usr/bin/docker stop myservice'],
        ],
      },
      { name: 'X-Fleet', entries: [['Conflicts', 'myservice@*.service']] },
    ]);
    expect(entries(u, 'Service', 'ExecStartPre').map((e) => e.line)).toEqual([5, 6]);
    expect(u.sections.map((s) => s.line)).toEqual([1, 4, 9]);
  });

  it('skips # and ; comments (also indented) and blank lines, and trims around =', () => {
    const u = parseUnitFile('# head\n; other\n\n[Service]\n   # indented\n  Key  =   value with  spaces   \n\tOther=a=b\n');
    expect(shape(u)).toEqual([{ name: 'Service', entries: [['Key', 'value with  spaces'], ['Other', 'a=b']] }]);
  });

  it('keeps # and ; inside values (only whole-line comments exist)', () => {
    expect(shape(parseUnitFile('[S]\nA=x # not a comment ; neither\n'))[0]!.entries).toEqual([['A', 'x # not a comment ; neither']]);
  });

  it('joins continuation lines: the trailing backslash becomes a space', () => {
    const u = parseUnitFile('[Service]\nExecStart=/usr/bin/docker run \\\n  --name web \\\n  nginx\nNext=1\n');
    const e = lastSetting(u, 'Service', 'ExecStart')!;
    expect(e.value).toBe('/usr/bin/docker run    --name web    nginx');
    expect(e.line).toBe(2);
    expect(lastSetting(u, 'Service', 'Next')!.line).toBe(5);
  });

  it('drops comment lines inside a continuation, as systemd does', () => {
    const u = parseUnitFile('[S]\nA=one \\\n# a comment \\\n  two\n');
    expect(lastSetting(u, 'S', 'A')!.value).toBe('one    two');
  });

  it('an escaped backslash at the end of a line is not a continuation', () => {
    const u = parseUnitFile('[S]\nA=C:\\\\\nB=2\n');
    expect(shape(u)[0]!.entries).toEqual([['A', 'C:\\\\'], ['B', '2']]);
  });

  it('a continuation at the end of the file ends the value', () => {
    expect(lastSetting(parseUnitFile('[S]\nA=x \\'), 'S', 'A')!.value).toBe('x');
  });

  it('an empty line ends a continuation', () => {
    expect(shape(parseUnitFile('[S]\nA=x\\\n\nB=y\n'))[0]!.entries).toEqual([['A', 'x'], ['B', 'y']]);
  });

  it('reads CRLF files and a byte-order mark', () => {
    const u = parseUnitFile('\uFEFF[Unit]\r\nDescription=x \\\r\n y\r\n');
    expect(shape(u)).toEqual([{ name: 'Unit', entries: [['Description', 'x   y']] }]);
  });

  it('keeps repeated sections (systemd merges them)', () => {
    const u = parseUnitFile('[Service]\nA=1\n[Unit]\nB=2\n[Service]\nA=3\n');
    expect(entries(u, 'Service', 'A').map((e) => e.value)).toEqual(['1', '3']);
  });

  it.each([
    ['Key=value\n', 'assignment outside of a section'],
    ['[Service]\nno equals sign\n', "expected Key=Value, got 'no equals sign'"],
    ['[Service]\n=value\n', "missing the setting's name"],
    ['[Service\nA=1\n', 'invalid section header'],
    ['[Service] # x\n', 'invalid section header'],
    ['[]\n', 'invalid section header'],
    ['.include /etc/x.service\n', "'.include' is not supported"],
  ])('refuses %j naming file and line', (text, message) => {
    const e = failure(() => parseUnitFile(text, 'x.service'));
    expect(e.message).toContain(message);
    expect(e.message).toMatch(/^x\.service:\d+: /);
  });
});

describe('list settings', () => {
  it('an empty assignment resets a list; the last single value wins', () => {
    const u = parseUnitFile('[Service]\nExecStartPre=/a\nExecStartPre=\nExecStartPre=/b\nExecStartPre=/c\nType=simple\nType=notify\n');
    expect(listSetting(u, 'Service', 'ExecStartPre').map((e) => e.value)).toEqual(['/b', '/c']);
    expect(lastSetting(u, 'Service', 'Type')!.value).toBe('notify');
    expect(lastSetting(u, 'Service', 'Missing')).toBeUndefined();
  });
});

describe('serialize', () => {
  it('writes sections and keys back', () => {
    const u = parseUnitFile(EXAMPLE);
    expect(serialize(u)).toBe(
      '[Unit]\nDescription=My service\nAfter=docker.service\n\n[Service]\nExecStartPre=-/usr/bin/docker kill myservice\nExecStartPre=-/usr/bin/docker rm myservice\n' +
        'ExecStart=/usr/bin/docker run --name myservice -p 3000:3000 myrepo/myservice:58-develop\nExecStop=/usr/bin/docker stop myservice\n\n[X-Fleet]\nConflicts=myservice@*.service\n',
    );
    expect(shape(parseUnitFile(serialize(u)))).toEqual(shape(u));
  });

  it('round-trips through fleet-style options', () => {
    const u = parseUnitFile(EXAMPLE);
    expect(toOptions(u)[0]).toEqual({ section: 'Unit', name: 'Description', value: 'My service' });
    expect(shape(fromOptions(toOptions(u)))).toEqual(shape(u));
    // Options of one section given apart are grouped, in order of first appearance (as go-systemd does).
    const grouped = fromOptions([
      { section: 'Service', name: 'A', value: '1' },
      { section: 'Unit', name: 'B', value: '2' },
      { section: 'Service', name: 'C', value: '3' },
    ]);
    expect(serialize(grouped)).toBe('[Service]\nA=1\nC=3\n\n[Unit]\nB=2\n');
  });

  it.each([
    [{ sections: [{ name: 'S', line: 0, entries: [{ key: 'A', value: 'two\nlines', line: 0 }] }] }, 'line break'],
    [{ sections: [{ name: 'S', line: 0, entries: [{ key: 'A', value: 'trailing \\', line: 0 }] }] }, 'lone backslash'],
    [{ sections: [{ name: 'S', line: 0, entries: [{ key: 'A=B', value: 'x', line: 0 }] }] }, 'setting name'],
    [{ sections: [{ name: 'S', line: 0, entries: [{ key: '#A', value: 'x', line: 0 }] }] }, 'setting name'],
    [{ sections: [{ name: 'S\nT', line: 0, entries: [] }] }, 'section name'],
    [{ sections: [{ name: '', line: 0, entries: [] }] }, 'section name'],
  ])('refuses what a unit file cannot say (%#)', (unit, message) => {
    expect(failure(() => serialize(unit as UnitFile)).message).toContain(message);
  });

  it('property: serialize(parse(text)) parses to the same sections, keys and values', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,12}$/);
    const valueChar = fc.constantFrom(...'abcXYZ019 \t"\'\\%$;#=[]@-_./:é'.split(''));
    const value = fc
      .array(valueChar, { maxLength: 30 })
      .map((cs) => cs.join('').replace(/^[ \t]+|[ \t]+$/g, ''))
      .filter((v) => !/(^|[^\\])(\\\\)*\\$/.test(v));
    const unit = fc.array(fc.record({ name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _-]{0,10}[A-Za-z0-9]$/), entries: fc.array(fc.tuple(name, value), { maxLength: 6 }) }), {
      maxLength: 4,
    });
    // Decorations a human writes: comments, blank lines, spacing around '=', continuation lines.
    const decorations = fc.array(fc.nat(), { minLength: 64, maxLength: 64 });

    fc.assert(
      fc.property(unit, decorations, (sections, dice) => {
        let d = 0;
        const roll = (n: number) => dice[d++ % dice.length]! % n;
        const lines: string[] = [];
        for (const s of sections) {
          if (roll(3) === 0) lines.push(roll(2) ? '# comment \\' : '; other comment');
          if (roll(3) === 0) lines.push('');
          lines.push(`${roll(2) ? '  ' : ''}[${s.name}]`);
          for (const [k, v] of s.entries) {
            let text = v;
            const space = v.indexOf(' ', 1);
            const before = v.slice(0, space);
            const after = v.slice(space + 1);
            // Split at a space into a continuation, where systemd would read the same value back.
            if (space > 0 && roll(2) === 0 && !before.endsWith('\\') && after !== '' && !/^[ \t]*[#;]/.test(after) && !/^[ \t]*$/.test(after)) {
              text = `${before}\\\n${after}`;
            }
            lines.push(`${roll(2) ? '\t' : ''}${k}${roll(2) ? ' = ' : '='}${text}`);
          }
        }
        const parsed = parseUnitFile(lines.join(roll(4) === 0 ? '\r\n' : '\n'));
        expect(shape(parsed)).toEqual(sections.map((s) => ({ name: s.name, entries: s.entries.map(([k, v]) => [k, v]) })));
        expect(shape(parseUnitFile(serialize(parsed)))).toEqual(shape(parsed));
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseExec', () => {
  it('splits a command line into path and argv', () => {
    expect(parseExec('/usr/bin/docker run --name web  nginx')).toEqual([
      {
        path: '/usr/bin/docker',
        argv: ['/usr/bin/docker', 'run', '--name', 'web', 'nginx'],
        prefix: '',
        flags: { ignoreFailure: false, separateArgv0: false, noEnvironmentExpansion: false, fullPrivileges: false, noSetuid: false, ambientCapabilities: false },
      },
    ]);
  });

  it.each([
    ['-/usr/bin/docker kill web', '-', { ignoreFailure: true }],
    ['+/bin/true', '+', { fullPrivileges: true }],
    ['!/bin/true', '!', { noSetuid: true }],
    ['!!/bin/true', '!!', { ambientCapabilities: true }],
    [':/bin/true', ':', { noEnvironmentExpansion: true }],
    ['-:+/bin/true', '-:+', { ignoreFailure: true, noEnvironmentExpansion: true, fullPrivileges: true }],
  ])('reads the prefix of %j', (line, prefix, set) => {
    const [cmd] = parseExec(line);
    expect(cmd!.prefix).toBe(prefix);
    expect(cmd!.path).toBe(line.slice(prefix.length).split(' ')[0]);
    expect(cmd!.flags).toMatchObject(set);
    expect(Object.values(cmd!.flags).filter(Boolean)).toHaveLength(Object.keys(set).length);
  });

  it("'@' makes the second word argv[0]", () => {
    const [cmd] = parseExec('-@/usr/bin/docker dockerd-client run x');
    expect(cmd).toMatchObject({ path: '/usr/bin/docker', argv: ['dockerd-client', 'run', 'x'], prefix: '-@' });
    expect(cmd!.flags.separateArgv0 && cmd!.flags.ignoreFailure).toBe(true);
  });

  it.each([
    [`/bin/sh -c "echo hello world"`, ['/bin/sh', '-c', 'echo hello world']],
    [`/bin/sh -c 'echo "hi"'`, ['/bin/sh', '-c', 'echo "hi"']],
    [`/bin/echo a"b c"d`, ['/bin/echo', 'ab cd']],
    [`/bin/echo "" ''`, ['/bin/echo', '', '']],
    [`/bin/echo "say \\"hi\\"" 'it\\'s'`, ['/bin/echo', 'say "hi"', "it's"]],
    [`/bin/echo a\\ b`, ['/bin/echo', 'a\\ b']],
    [`/bin/echo a\\sb \\t\\n`, ['/bin/echo', 'a b', '\t\n']],
    [`/bin/echo \\x41\\101\\u00e9\\U0001F600`, ['/bin/echo', 'AAé😀']],
    [`/bin/echo \\xc3\\xa9`, ['/bin/echo', 'é']],
    [`/bin/echo \\q \\x0g`, ['/bin/echo', '\\q', '\\x0g']],
    [`/bin/echo 'single \\n escapes too'`, ['/bin/echo', 'single \n escapes too']],
    [`/bin/echo 50%`, ['/bin/echo', '50%']],
    [`/bin/echo \\;`, ['/bin/echo', ';']],
    [`/bin/echo a;b`, ['/bin/echo', 'a;b']],
    [`/bin/echo ";"`, ['/bin/echo', ';']],
    [`  /bin/echo\t  x  `, ['/bin/echo', 'x']],
  ])('unquotes and unescapes %s', (line, argv) => {
    expect(parseExec(line)[0]!.argv).toEqual(argv);
  });

  it('separates commands at a lone ;', () => {
    const cmds = parseExec('-/bin/echo one ; /bin/echo two ;');
    expect(cmds.map((c) => c.argv)).toEqual([['/bin/echo', 'one'], ['/bin/echo', 'two']]);
    expect(cmds.map((c) => c.flags.ignoreFailure)).toEqual([true, false]);
  });

  it('an empty value is an empty list (systemd resets the setting)', () => {
    expect(parseExec('   ')).toEqual([]);
  });

  it('expands specifiers in every word, after unquoting', () => {
    const [cmd] = parseExec(`/usr/bin/docker run --name "%p-%i" -e 'UNIT=%n' -e P=100%% img:%i`, { unitName: 'web@2.service' });
    expect(cmd!.argv).toEqual(['/usr/bin/docker', 'run', '--name', 'web-2', '-e', 'UNIT=web@2.service', '-e', 'P=100%', 'img:2']);
  });

  it.each([
    ['/bin/echo "unclosed', 'unbalanced " quote'],
    ["/bin/echo 'unclosed", "unbalanced ' quote"],
    ['- x', 'empty executable'],
    ['@/bin/echo', "'@' needs argv[0]"],
  ])('refuses %j', (line, message) => {
    expect(failure(() => parseExec(line, { where: 'a.service:3' })).message).toMatch(new RegExp(`^a\\.service:3: .*${message.replace(/[[\]'"@]/g, '.')}`));
  });
});

describe('splitWords', () => {
  it('reads After=-style lists', () => {
    expect(splitWords(' db.service  "cache.service" ')).toEqual(['db.service', 'cache.service']);
    expect(splitWords('')).toEqual([]);
  });
});

describe('unit names and specifiers', () => {
  it('parses plain, instance and template names', () => {
    expect(parseUnitName('myservice.service')).toEqual({ full: 'myservice.service', prefix: 'myservice', instance: undefined, type: 'service' });
    expect(parseUnitName('app@1.service')).toEqual({ full: 'app@1.service', prefix: 'app', instance: '1', type: 'service' });
    expect(parseUnitName('app@.service')).toMatchObject({ prefix: 'app', instance: '' });
    expect(parseUnitName('a@b@c.socket')).toMatchObject({ prefix: 'a', instance: 'b@c', type: 'socket' });
  });

  it.each(['web', '@x.service', 'web.conf', 'a b.service', `${'x'.repeat(260)}.service`])('refuses the unit name %j', (name) => {
    expect(failure(() => parseUnitName(name)).message).toContain('invalid unit name');
  });

  it.each([
    ['myservice.service', '%n|%N|%p|%i|%%|%P|%I', 'myservice.service|myservice|myservice||%|myservice|'],
    ['app@1.service', '%n|%N|%p|%i|%%', 'app@1.service|app@1|app|1|%'],
    ['app@.service', '%N|%p|%i', 'app@|app|'],
    ['mnt-data@var-lib-x\\x2dy.service', '%P %I', 'mnt/data var/lib/x-y'],
    ['web.service', 'no specifiers', 'no specifiers'],
    ['web.service', '100%', '100%'],
  ])('%s: %j → %j', (unit, text, out) => {
    expect(expandSpecifiers(text, unit)).toBe(out);
  });

  it('refuses specifiers kiboko cannot know, naming the place', () => {
    const e = failure(() => expandSpecifiers('host-%H', 'web.service', 'web.service:4'));
    expect(e.message).toBe('web.service:4: unsupported specifier %H in "host-%H"');
    expect(e.hint).toContain('%n %N %p');
  });
});

describe('environment', () => {
  it('reads Environment= assignments, quoted, later ones winning, an empty one resetting', () => {
    const u = parseUnitFile('[Service]\nEnvironment=A=1 "B=two words"\nEnvironment=A=3 UNIT=%n\nEnvironment=\nEnvironment=C=%i\n');
    expect(parseEnvironment(entries(u, 'Service', 'Environment'), { unitName: 'x@7.service' })).toEqual({ C: '7' });
    const v = parseUnitFile('[Service]\nEnvironment=A=1 "B=two words"\nEnvironment=A=3 UNIT=%n\n');
    expect(parseEnvironment(entries(v, 'Service', 'Environment'), { unitName: 'x.service' })).toEqual({ A: '3', B: 'two words', UNIT: 'x.service' });
  });

  it('refuses a malformed assignment', () => {
    const u = parseUnitFile('[Service]\nEnvironment=NOVALUE\n');
    expect(failure(() => parseEnvironment(entries(u, 'Service', 'Environment'), { where: 'x.service' })).message).toContain("x.service:2: invalid Environment= assignment 'NOVALUE'");
  });

  it('substitutes $VAR words (split), ${VAR} inside words, $$, defaults, and reports unset names', () => {
    const env = { IMG: 'nginx:1', FLAGS: '-p 80:80  -d', EMPTY: '' };
    expect(expandEnvironment(['run', '$FLAGS', 'x${IMG}y', '$$HOME', 'a$IMG', '${NOPE:-dflt}', '${IMG:+set}', '${EMPTY:-e}'], env)).toEqual({
      argv: ['run', '-p', '80:80', '-d', 'xnginx:1y', '$HOME', 'a$IMG', 'dflt', 'set', 'e'],
      missing: [],
    });
    expect(expandEnvironment(['$A', 'x${B}'], {})).toEqual({ argv: ['x'], missing: ['A', 'B'] });
  });
});
