/**
 * The fast reader for plain files (./yaml-plain.ts) must give what the `yaml` package gives:
 * the same tree (values, raw texts, lines, paths) and the same warnings and problems, or give up.
 * Checked on the compose corpus, on hand-written edge cases, and on generated files.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Problems } from './problems.js';
import { readFullYaml, readYaml } from './yaml.js';
import { readPlainYaml } from './yaml-plain.js';

const lookup = (name: string): string | undefined => ({ TAG: '1.2', EMPTY: '' })[name];

/** Both readers on one text: their results, warnings and problems side by side, and whether the fast one read it. */
function both(text: string) {
  const fastProblems = new Problems();
  const fullProblems = new Problems();
  const fast = readYaml(text, 'compose.yaml', lookup, fastProblems);
  const full = readFullYaml(text, 'compose.yaml', lookup, fullProblems);
  return {
    fast: { tree: fast, warnings: fastProblems.warnings, problems: fastProblems.messages },
    full: { tree: full, warnings: fullProblems.warnings, problems: fullProblems.messages },
    plain: readPlainYaml(text, 'compose.yaml', 200_000) !== undefined,
  };
}

function expectSame(text: string): boolean {
  const r = both(text);
  expect(r.fast, text).toEqual(r.full);
  return r.plain;
}

describe('the fast reader for plain compose files', () => {
  it('reads the shape of bench/deploy.mjs files, with comments, exactly as the yaml package', () => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++) {
      services[`s${i}`] = {
        image: 'kiboko/busybox:local',
        command: ['sleep', '3600'],
        stop_grace_period: '1s',
        labels: { 'kiboko.bench': 'x1', 'kiboko.bench.service': `s${i}` },
        deploy: { replicas: 1, update_config: { monitor: '0s' } },
      };
    }
    expect(expectSame(`# generated\n${stringify({ services })}`)).toBe(true);
  });

  it.each([
    ['same-indent sequence and comments', 'services:\n  # the web\n  web:\n    image: nginx:${TAG}  # pinned\n    ports:\n    - "80:80"\n    - 443:443\n\n    environment:\n      A: ${EMPTY}x\n      B: $$literal\n'],
    ['flow sequences', 'services:\n  web:\n    image: x\n    command: ["CMD", \'it\'\'s\', 3, true, a b]  # c\n    entrypoint: []\n    healthcheck:\n      test: [ CMD-SHELL , "curl -f http://localhost" ]\n'],
    ['quoted keys and numbers', 'services:\n  "web":\n    image: x\n    labels:\n      \'a.b\': "1"\n      c: 0755\n    mem_limit: 123456789012345\n'],
    ['plain scalars with inner indicators', 'services:\n  web:\n    image: a#b\n    command: echo a:b, [c] {d} x-y\n    user: "1000:1000"\n'],
    ['an unset variable and a bad one', 'services:\n  web:\n    image: ${NOPE}\n    command: ${BAD\n'],
  ])('%s: same tree, warnings and problems', (_name, text) => {
    expect(expectSame(text)).toBe(true);
  });

  it.each([
    ['an empty value', 'services:\n  web:\n    image: x\nvolumes:\n  data:\n'],
    ['a duplicate key', 'services:\n  web:\n    image: x\n  web:\n    image: y\n'],
    ['anchors and merge keys', 'x-common: &c\n  image: x\nservices:\n  web:\n    <<: *c\n'],
    ['a block scalar', 'services:\n  web:\n    image: x\n    command: |\n      echo hi\n'],
    ['a multi-line plain scalar', 'services:\n  web:\n    image: x\n    command: echo\n      hi\n'],
    ['an escape', 'services:\n  web:\n    image: "a\\tb"\n'],
    ['a tab', 'services:\n\tweb:\n'],
    ['a typed key', 'services:\n  1:\n    image: x\n'],
    ['a mapping in a list', 'services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n'],
    ['a bad indentation', 'services:\n    web:\n      image: x\n  db:\n    image: y\n'],
    ['a document marker', '---\nservices:\n  web:\n    image: x\n'],
    ['a nested mapping on one line', 'services:\n  web: image: x\n'],
    ['a null', 'services:\n  web:\n    image: ~\n'],
    ['a reset tag', 'services:\n  web:\n    ports: !reset []\n'],
    ['an empty file', '# nothing\n'],
  ])('gives up on %s, and the result is the full parser\'s', (_name, text) => {
    expect(expectSame(text)).toBe(false);
  });

  const CORPUS = process.env.KIBOKO_COMPOSE_CORPUS ?? path.resolve(import.meta.dirname, '../../../../shared/compat/compose-corpus');
  it.skipIf(!existsSync(path.join(CORPUS, 'LIST.tsv')))('agrees with the yaml package on every corpus file', () => {
    // skipped when the corpus (data beside the repository, not in it) is absent, as in corpus.test.ts
    const files = readFileSync(path.join(CORPUS, 'LIST.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t')[1]!);
    let read = 0;
    for (const file of files) if (expectSame(readFileSync(path.join(CORPUS, file), 'utf8'))) read++;
    console.log(`the fast reader read ${read} of ${files.length} corpus files; the yaml package read the others`);
    expect(read).toBeGreaterThan(0);
  });

  it('agrees with the yaml package on generated files', () => {
    let plain = 0;
    const word = fc.oneof(
      { arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.\/-]{0,10}$/), weight: 4 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:\/#$ {}\[\],'"-]{1,12}$/), weight: 1 },
    );
    const scalar = fc.oneof(word, fc.integer(), fc.boolean(), fc.constantFrom('1s', '0755', '-1', '1.5', 'null', 'True', '${TAG}', '$${X}'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('seq'), tie('map')),
      seq: fc.array(tie('node'), { maxLength: 4 }),
      map: fc.dictionary(word, tie('node'), { minKeys: 1, maxKeys: 4 }),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(word, value, { minKeys: 1, maxKeys: 4 }), fc.boolean(), (doc, flow) => {
        const text = stringify(doc, flow ? { collectionStyle: 'block', flowCollectionPadding: false } : undefined);
        if (expectSame(text)) plain++;
        expectSame(text.replace(/^( *)- /gm, '$1  - ').replace(/\n/g, '  # c\n'));
      }),
      { numRuns: 400 },
    );
    // the generator must reach the fast reader often, or this test checks only the fallback
    expect(plain).toBeGreaterThan(40);
  }, 60_000);
});
