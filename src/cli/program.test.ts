import { describe, expect, it } from 'vitest';
import { CACHE_SLOTS } from './code-cache.js';
import { CHAOS_COMMAND_WORDS } from './define-chaos.js';
import { buildProgram, COMMAND_GROUPS } from './program.js';

const names = (only?: string) => buildProgram({ only }).commands.map((c) => c.name());

describe('buildProgram with only one group', () => {
  it('each group defines exactly the top-level commands it names', () => {
    for (const group of COMMAND_GROUPS) {
      for (const name of group.names) expect(names(name)).toEqual(group.names);
    }
  });

  it('the groups together are the whole tree, in its order', () => {
    expect(names()).toEqual(COMMAND_GROUPS.flatMap((g) => g.names));
  });

  it('every top-level command has a code cache slot of its own (cli/code-cache.ts)', () => {
    expect([...CACHE_SLOTS].sort()).toEqual(names().sort());
  });

  it('a name no group defines (a typo, an option) gets the whole tree, so commander can suggest', () => {
    expect(names('deplyo')).toEqual(names());
    expect(names('--json')).toEqual(names());
  });

  it("a group's commands are the same as in the whole tree (options and subcommands)", () => {
    const whole = buildProgram();
    for (const group of COMMAND_GROUPS) {
      const alone = buildProgram({ only: group.names[0] });
      for (const name of group.names) {
        const a = alone.commands.find((c) => c.name() === name)!;
        const w = whole.commands.find((c) => c.name() === name)!;
        expect(a.helpInformation()).toBe(w.helpInformation());
        expect(a.commands.map((c) => c.helpInformation())).toEqual(w.commands.map((c) => c.helpInformation()));
      }
    }
  });
});

describe('the chaos commands a command line names', () => {
  const chaosOf = (words?: string[]) => buildProgram({ only: 'chaos', words }).commands.find((c) => c.name() === 'chaos')!;
  const subs = (words?: string[]) => chaosOf(words).commands.map((c) => c.name());

  it('CHAOS_COMMAND_WORDS is every chaos command of the whole tree', () => {
    expect([...CHAOS_COMMAND_WORDS].sort()).toEqual(subs().sort());
  });

  it('a line that names commands defines just those, each as in the whole tree', () => {
    const whole = chaosOf();
    expect(subs(['chaos', 'kill', '--signal', 'SIGTERM', 'web-1'])).toEqual(['kill']);
    // an option's value or a target that is a command's name only adds that command
    expect(subs(['chaos', '--label', 'pause', 'kill', 'stop'])).toEqual(['kill', 'stop', 'pause']);
    for (const word of CHAOS_COMMAND_WORDS) {
      const alone = chaosOf(['chaos', word]);
      const a = alone.commands.find((c) => c.name() === word)!;
      const w = whole.commands.find((c) => c.name() === word)!;
      expect(a.helpInformation()).toBe(w.helpInformation());
      expect(a.commands.map((c) => c.helpInformation())).toEqual(w.commands.map((c) => c.helpInformation()));
    }
  });

  it('a line that names none (a typo) defines them all, so commander can suggest', () => {
    expect(subs(['chaos', 'kil', 'web-1'])).toEqual(subs());
  });
});
