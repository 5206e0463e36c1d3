import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../engine/index.js';
import { ruleMatches, unionEngineFilters } from './match.js';
import { parseRules } from './rules.js';

const ev = (over: Partial<EngineEvent> = {}): EngineEvent => ({
  type: 'container',
  action: 'die',
  id: 'b'.repeat(64),
  attributes: { name: 'db-1', app: 'db', exitCode: '137' },
  time: 1_700_000_000,
  timeNano: '1700000000000000000',
  scope: 'local',
  ...over,
});

const errorsOf = (text: string) => {
  try {
    parseRules(text, 'rules.yaml', '/srv');
  } catch (err) {
    return (err as { message: string; details: { errors: { line: number; path: string; message: string }[] } });
  }
  throw new Error('expected the rules to be refused');
};

describe('rules files', () => {
  it('reads the documented shape: strings or lists, conditions, durations, actions', () => {
    const set = parseRules(
      `rules:
  - name: restart-db-on-oom
    on: { type: container, event: [die, oom, "health_status: unhealthy"], label: ["app=db"], name: "re2:^db" }
    when: { exitCode: "!=0" }
    debounce: 5s
    actions:
      - notify: { url: "https://hooks.example/T1/B2", slack: true, text: "{{.Actor.Attributes.name}} died" }
      - exec: { container: "{{.Actor.ID}}", cmd: [sh, -c, "echo hi"] }
      - restart: { container: "{{.Actor.ID}}", stop_timeout: 10s }
      - lifecycle: { method: validate, container: "{{.Actor.ID}}" }
      - render: { confdir: ./conf, backend: env, timeout: 1m }
      - rollback: { project: shop, to: 3 }
`,
      'rules.yaml',
      '/srv',
    );
    const r = set.rules[0]!;
    expect(r.name).toBe('restart-db-on-oom');
    expect(r.on.event).toEqual(['die', 'oom', 'health_status: unhealthy']);
    expect(r.debounceMs).toBe(5000);
    expect(r.oncePer).toBe('rule');
    expect(r.timeoutMs).toBe(30_000);
    expect(r.actions.map((a) => a.kind)).toEqual(['notify', 'exec', 'restart', 'lifecycle', 'render', 'rollback']);
    const render = r.actions[4]!;
    expect(render.kind === 'render' && render.confdir).toBe('/srv/conf');
    expect(render.timeoutMs).toBe(60_000);
    expect(r.line).toBe(2);
  });

  it('reports every problem with its line and key path, and runs nothing', () => {
    const err = errorsOf(`rules:
  - name: a
    on: { type: containers, event: 3 }
    debounce: soon
    actions:
      - explode: {}
      - exec: { container: x, cmd: "sh -c x" }
      - notify: { url: "{{.Actor", text: hi }
  - name: a
    on: {}
    colour: red
    actions: []
`);
    const lines = err.details.errors.map((e) => `${e.line} ${e.path}: ${e.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^3 rules\[0\]\.on\.event: expected an event action .* or a list of them, got 3/),
        expect.stringMatching(/^6 rules\[0\]\.actions\[0\]\.explode: unknown action "explode"/),
        expect.stringMatching(/^7 rules\[0\]\.actions\[1\]\.exec\.cmd: expected the command as a list of words/),
        expect.stringMatching(/^11 rules\[1\]\.colour: unknown key "colour"/),
        expect.stringMatching(/^12 rules\[1\]\.actions: expected at least one action/),
      ]),
    );
    // The unknown type is only seen once the shape is right, so it comes from the second pass.
    expect(errorsOf(`rules:\n  - name: a\n    on: { type: containers }\n    actions: [ { restart: { container: x } } ]\n`).message).toMatch(
      /rules\.yaml:3 rules\[0\]\.on\.type: unknown event type "containers"/,
    );
    expect(errorsOf(`rules:\n  - name: a\n    on: {}\n    debounce: soon\n    actions: [ { restart: { container: x } } ]\n`).message).toMatch(/rules\.yaml:4 rules\[0\]\.debounce: invalid debounce 'soon'/);
    expect(errorsOf(`rules:\n  - name: a\n    on: {}\n    actions: [ { notify: { url: "{{.Actor" } } ]\n`).message).toMatch(/rules\.yaml:4 .*notify\.url: invalid template "{{\.Actor": unclosed action/);
    expect(errorsOf(`rules:\n  - name: a\n    on: {}\n    actions: [ { restart: { container: x } } ]\n  - name: a\n    on: {}\n    actions: [ { restart: { container: x } } ]\n`).message).toMatch(/duplicate rule name "a"/);
    expect(errorsOf('rules: [\n').message).toMatch(/^rules\.yaml: 1 error/);
    expect(errorsOf('rulez: []\n').message).toMatch(/rules\.yaml:1 rulez: unknown key "rulez"/);
  });

  it('matches on filters, names (exact or RE2) and attribute conditions', () => {
    const [byName, byCond, health] = parseRules(`rules:
  - name: n
    on: { type: container, event: die, name: ["re2:^db-", web] }
    actions: [ { restart: { container: x } } ]
  - name: c
    on: { label: app=db }
    when: { exitCode: ">=128", signal: absent, name: "!re2:^tmp" }
    actions: [ { restart: { container: x } } ]
  - name: h
    on: { event: health_status }
    actions: [ { restart: { container: x } } ]
`).rules as [never, never, never];
    expect(ruleMatches(byName, ev())).toBe(true);
    expect(ruleMatches(byName, ev({ attributes: { name: 'web' } }))).toBe(true);
    expect(ruleMatches(byName, ev({ attributes: { name: 'web-2' } }))).toBe(false);
    expect(ruleMatches(byName, ev({ action: 'start' }))).toBe(false);
    expect(ruleMatches(byCond, ev())).toBe(true);
    expect(ruleMatches(byCond, ev({ attributes: { app: 'db', exitCode: '0', name: 'db-1' } }))).toBe(false);
    expect(ruleMatches(byCond, ev({ attributes: { app: 'db', exitCode: '137', name: 'tmp-1' } }))).toBe(false);
    expect(ruleMatches(byCond, ev({ attributes: { app: 'db', exitCode: 'x', name: 'db-1' } }))).toBe(false);
    expect(ruleMatches(health, ev({ action: 'health_status: unhealthy' }))).toBe(true);
  });

  it('asks the engine only for what some rule can match', () => {
    const rules = parseRules(`rules:
  - name: a
    on: { type: container, event: die, label: app=db }
    actions: [ { restart: { container: x } } ]
  - name: b
    on: { type: [container, deploy], event: [oom] }
    actions: [ { restart: { container: x } } ]
  - name: c
    on: { type: deploy }
    actions: [ { rollback: { project: p } } ]
`).rules;
    expect(unionEngineFilters(rules)).toEqual({ type: ['container'], event: ['die', 'oom'] });
    expect(unionEngineFilters([...rules, ...parseRules(`rules:\n  - name: d\n    on: { type: image }\n    actions: [ { restart: { container: x } } ]\n`).rules])).toEqual({ type: ['container', 'image'] });
  });
});
