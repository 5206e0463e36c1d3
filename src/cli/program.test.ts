import { describe, expect, it } from 'vitest';
import { CACHE_SLOTS } from './code-cache.js';
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
