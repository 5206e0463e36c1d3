import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/expect-error.js';
import { appendToStage, parseDockerfile, parseInstructions, resolveBaseImage, substitute } from './dockerfile.js';

const base = (text: string, options: Parameters<typeof resolveBaseImage>[1] = {}) => resolveBaseImage(parseDockerfile(text), options);

describe('parseDockerfile', () => {
  it('finds stages, names and the FROM of each', () => {
    const p = parseDockerfile('# comment\nFROM --platform=linux/amd64 golang:1.22 AS Build\nRUN go build\n\nFROM scratch\nCOPY --from=build /app /app\n');
    expect(p.stages.map((s) => [s.name, s.from, s.platform])).toEqual([
      ['build', 'golang:1.22', 'linux/amd64'],
      [undefined, 'scratch', undefined],
    ]);
    expect(p.stages[1]!.endLine).toBe(5);
  });

  it('joins continuation lines, skips comments inside them, and honours # escape=`', () => {
    const ins = parseInstructions('FROM a\nRUN echo 1 \\\n# inside\n  && echo 2\nLABEL x=1').instructions;
    expect(ins.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'LABEL']);
    expect(ins[1]).toMatchObject({ args: 'echo 1   && echo 2', startLine: 1, endLine: 3 });
    const bt = parseInstructions('# escape=`\nFROM a\nRUN dir `\n  c:\\\\\nFROM b');
    expect(bt.escape).toBe('`');
    expect(bt.instructions.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'FROM']);
  });

  it('treats heredoc bodies as data, not instructions', () => {
    const p = parseDockerfile('FROM a\nRUN <<EOF\nFROM evil\nEOF\nRUN <<-"END" cat\n\tFROM worse\n\tEND\nLABEL ok=1\n');
    expect(p.stages).toHaveLength(1);
    expect(p.stages[0]!.instructions.map((i) => i.keyword)).toEqual(['FROM', 'RUN', 'RUN', 'LABEL']);
  });

  it('keeps global ARGs with their defaults', () => {
    const p = parseDockerfile('ARG REG=docker.io VERSION\nARG "TAG=1 2"\nFROM $REG/app:${VERSION}\n');
    expect([...p.globalArgs]).toEqual([
      ['REG', 'docker.io'],
      ['VERSION', undefined],
      ['TAG', '1 2'],
    ]);
  });

  it('rejects files without FROM, instructions before FROM and malformed FROM lines', () => {
    expect(thrown(() => parseDockerfile('# nothing\n')).message).toMatch(/no FROM/);
    expect(thrown(() => parseDockerfile('RUN x\nFROM a')).message).toMatch(/RUN before the first FROM/);
    expect(thrown(() => parseDockerfile('FROM a b')).message).toMatch(/expected 'FROM image \[AS name\]'/);
    expect(thrown(() => parseDockerfile('# escape=x\nFROM a')).message).toMatch(/escape directive/);
  });
});

describe('resolveBaseImage', () => {
  it('resolves global ARGs, build args overriding defaults', () => {
    const text = 'ARG BASE=acme/base:1\nFROM ${BASE}\n';
    expect(base(text).name).toBe('acme/base:1');
    expect(base(text, { buildArgs: { BASE: 'acme/base:2' } }).name).toBe('acme/base:2');
    expect(base('ARG V\nFROM app:${V:-latest}').name).toBe('app:latest');
    expect(base('ARG V=1\nFROM app${V:+-v}$V').name).toBe('app-v1');
  });

  it('follows FROM <stage> chains to the external image, case-insensitively', () => {
    const text = 'FROM busybox AS one\nFROM One AS two\nFROM two\nRUN x\n';
    const b = base(text);
    expect(b).toMatchObject({ name: 'busybox', unresolved: false });
    expect(b.stage.index).toBe(2);
  });

  it('builds the --target stage', () => {
    const text = 'FROM a AS build\nFROM scratch AS final\nFROM c\n';
    expect(base(text, { target: 'BUILD' })).toMatchObject({ name: 'a' });
    expect(base(text, { target: 'final' })).toMatchObject({ name: undefined, unresolved: false });
    expect(thrown(() => base(text, { target: 'nope' })).hint).toMatch(/stages: build, final/);
  });

  it('says so when the FROM line is beyond simple substitution', () => {
    expect(base('ARG V=x\nFROM app:${V%%.*}')).toMatchObject({ name: undefined, unresolved: true });
    expect(base('FROM $EMPTY')).toMatchObject({ unresolved: true });
  });

  it('substitution never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, value) => {
        const r = substitute(text, new Map([['A', value]]));
        expect(r === undefined || typeof r === 'string').toBe(true);
      }),
    );
  });
});

describe('appendToStage', () => {
  it('adds lines at the end of the built stage, before the next FROM', () => {
    const text = 'FROM a AS x\nRUN one \\\n  two\n\nFROM b\nRUN three\n';
    const p = parseDockerfile(text);
    const out = appendToStage(text, p.stages[0]!, ['COPY m /m']);
    expect(out).toBe('FROM a AS x\nRUN one \\\n  two\nCOPY m /m\n\nFROM b\nRUN three\n');
    expect(appendToStage(text, p.stages[1]!, ['COPY m /m'])).toBe(`${text}COPY m /m\n`);
    expect(parseDockerfile(out).stages[0]!.instructions.at(-1)!.args).toBe('m /m');
  });
});
