import { describe, expect, it } from 'vitest';
import { load, problemsOf, only } from './fixtures.test-support.js';

// ——— interpolation ——

describe('interpolation', () => {
  const file = (body: string) => ({ 'compose.yaml': `services:\n  web:\n    image: nginx\n${body}` });

  it('substitutes $VAR, ${VAR}, defaults, alternatives and $$ before validation', () => {
    const config = load(
      {
        'compose.yaml': `services:
  web:
    image: \${REGISTRY:-docker.io}/library/nginx:\${TAG}
    command: ["sh", "-c", "echo $$HOME \${GREETING-hi} \${EMPTY:-fallback} \${EMPTY-kept} \${TAG:+tagged}"]
    ports: ["\${PORT:-8080}:80"]
    environment:
      PRICE: "$$5"
      NESTED: \${NOPE:-\${ALSO_NOPE:-deep}}
      PLAIN: $TAG
    deploy:
      replicas: \${REPLICAS}
`,
      },
      { TAG: '1.27', EMPTY: '', REPLICAS: '3' },
    );
    const web = only(config, 'web');
    expect(web.image).toBe('docker.io/library/nginx:1.27');
    expect(web.command).toEqual(['sh', '-c', 'echo $HOME hi fallback  tagged']);
    expect(web.ports).toEqual([{ published: 8080, target: 80, protocol: 'tcp' }]);
    expect(web.environment).toEqual({ PRICE: '$5', NESTED: 'deep', PLAIN: '1.27' });
    expect(web.replicas).toBe(3);
  });

  it('reads .env in the project folder; the process environment wins', () => {
    const config = load(
      { 'compose.yaml': 'services:\n  web:\n    image: nginx:${TAG}\n    environment: [A=$A, B=$B, C]\n', '.env': 'TAG=from-dotenv\nA=dotenv\nB=dotenv\nC=dotenv\n' },
      { A: 'process' },
    );
    const web = only(config, 'web');
    expect(web.image).toBe('nginx:from-dotenv');
    expect(web.environment).toEqual({ A: 'process', B: 'dotenv', C: 'dotenv' });
  });

  it('makes a missing required variable an error at its location', () => {
    const text = 'services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: ${DB_PASSWORD:?set it in .env}\n      USER: ${DB_USER?}\n';
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems).toEqual([
      {
        file: 'compose.yaml',
        line: 5,
        path: 'services.db.environment.POSTGRES_PASSWORD',
        message: expect.stringContaining('required variable DB_PASSWORD is missing a value: set it in .env'),
      },
      { file: 'compose.yaml', line: 6, path: 'services.db.environment.USER', message: expect.stringContaining('required variable DB_USER') },
    ]);
  });

  it('refuses a lone $ like compose, and hints at $$', () => {
    const [p] = problemsOf(() => load(file('    command: echo $1\n')));
    expect(p).toMatchObject({ line: 4, path: 'services.web.command' });
    expect(p!.message).toContain('invalid interpolation format');
    expect(p!.message).toContain('$$');
  });

  it('reports a bad .env line in the .env file', () => {
    const [p] = problemsOf(() => load({ ...file(''), '.env': 'OK=1\nNOT OK\n' }));
    expect(p).toMatchObject({ file: '.env', line: 2 });
  });

  it('reports an interpolation error in a shared anchor once', () => {
    const text = 'x-env: &env\n  KEY: ${MISSING:?}\nservices:\n  a: {image: nginx, environment: *env}\n  b: {image: nginx, environment: *env}\n';
    const problems = problemsOf(() => load({ 'compose.yaml': text }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(2);
  });
});

// ——— env_file ——

describe('env_file', () => {
  it('reads dotenv files relative to the project folder, in order, under environment:', () => {
    const config = load({
      'compose.yaml': 'services:\n  web:\n    image: nginx\n    env_file: [env/common.env, {path: env/local.env, required: false}, env/web.env]\n    environment: {FROM: environment, C: null}\n',
      'env/common.env': '# shared\nexport FROM=common\nA="double \\"quoted\\""\nB=\'single $x\'\nC=plain # comment\n',
      'env/web.env': 'A=web\nD=${A}-d\n',
    });
    expect(only(config, 'web').environment).toEqual({ FROM: 'environment', A: 'web', B: 'single $x', C: 'plain', D: 'web-d' });
  });

  it('reports a missing env file at the env_file entry, and a bad line in the env file', () => {
    const text = 'services:\n  web:\n    image: nginx\n    env_file:\n      - missing.env\n      - bad.env\n';
    const problems = problemsOf(() => load({ 'compose.yaml': text, 'bad.env': 'GOOD=1\n\nQ="open\n' }));
    expect(problems).toEqual([
      { file: 'compose.yaml', line: 5, path: 'services.web.env_file[0]', message: expect.stringContaining('env file "missing.env" not found') },
      { file: 'bad.env', line: 3, path: '', message: expect.stringContaining('unterminated double-quoted value of Q') },
    ]);
  });
});
