import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentedProgram, renderCliDocs } from './cli-docs.js';
import { allCommands, commandPath } from './help.js';

const DIR = join(import.meta.dirname, '..', '..', 'docs', 'cli');

describe('docs/cli (generated from the commands’ definitions)', () => {
  const pages = renderCliDocs(documentedProgram());

  it('the committed pages are the generated ones — run `node scripts/gen-cli-docs.mjs` after changing a command', () => {
    const committed = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.md')).sort() : [];
    expect(committed).toEqual(Object.keys(pages).sort());
    for (const [file, text] of Object.entries(pages)) expect(readFileSync(join(DIR, file), 'utf8'), file).toBe(text);
  });

  it('documents every command, with its options', () => {
    const all = Object.values(pages).join('\n');
    for (const cmd of allCommands(documentedProgram()).filter((c) => c.name() !== 'help')) {
      expect(all, commandPath(cmd)).toContain(`## kiboko ${commandPath(cmd)}\n`);
    }
    expect(pages['chaos.md']).toContain('| `-s, --signal <signal>` | signal to send (default SIGKILL) |');
    expect(pages['kiboko.md']).toContain('| global options | meaning |');
  });
});
