/**
 * Integration-test containers: images labelled `test.type` (integration, performance, security,
 * chaos, …) and optionally `test.results` (where they write results; default /var/tests/results)
 * and `test.project`. kiboko finds them by label, runs each one attached to the networks of a
 * deployed project (so it reaches the services by name), copies its results directory out when it
 * exits, and reports: a test passes when it exits 0 and the JUnit / JSON files it wrote report
 * no failure. It can run while a `kiboko chaos …` experiment is active on the services — the test
 * containers carry kiboko's skip label, so chaos never picks them — which turns a resilience
 * experiment into a verdict.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { systemClock, type Clock } from '../common/clock.js';
import { mapSettled } from '../common/concurrency.js';
import { asKibokoError, invalidArgument, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { deployProject, rollbackProject, type DeployRun, type DeployStore, type SystemConfig } from '../deploy/index.js';
import type { Engine, ImageSummary } from '../engine/index.js';
import type { TestCaseResult, TestSuiteResult, Totals } from './junit.js';
import { worstCode, type LifecycleCode } from '../methods/index.js';
import { caseFrom, collectResults, DEFAULT_TEST_TIMEOUT_MS, RESULTS_DIR, runToCompletion, type CollectedResults } from './testing.js';
import { compareNames } from '../common/collate.js';

/** Compose projects label their networks and containers with this. */
const COMPOSE_PROJECT = 'com.docker.compose.project';

export interface TestImage {
  /** The image's name (its first tag). */
  ref: string;
  id: string;
  type: string;
  resultsPath: string;
  project?: string | undefined;
  labels: Readonly<Record<string, string>>;
}

export interface DiscoverOptions {
  /** Only this test.type (default: every type). */
  type?: string | undefined;
  /** Only images for this project: those labelled test.project=P, and those with no test.project. */
  project?: string | undefined;
  /** Further label filters (`key` or `key=value`), ANDed. */
  labels?: readonly string[] | undefined;
}

const TYPE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function validateTestType(type: string): string {
  if (!TYPE.test(type)) throw invalidArgument(`invalid test type '${type}': expected letters, digits, _ . - (e.g. integration)`, 'e.g. --type integration');
  return type;
}

const hasLabel = (labels: Readonly<Record<string, string>>, filter: string) => {
  const eq = filter.indexOf('=');
  return eq < 0 ? filter in labels : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
};

/**
 * Test images on the engine, by label. Untagged images (an older build of a test image whose tag
 * moved on) are left out: they would run stale tests.
 */
export async function discoverTestImages(engine: Engine, options: DiscoverOptions = {}): Promise<TestImage[]> {
  if (options.type !== undefined) validateTestType(options.type);
  const filters = [options.type ? `${LABELS.testType}=${options.type}` : LABELS.testType, ...(options.labels ?? [])];
  const seen = new Map<string, ImageSummary>();
  for (const i of await engine.listImages(filters)) seen.set(i.id, i);
  const out: TestImage[] = [];
  for (const i of seen.values()) {
    if (!filters.every((f) => hasLabel(i.labels, f))) continue;
    const tags = i.tags.filter((t) => t && t !== '<none>:<none>');
    if (tags.length === 0) continue;
    const project = i.labels[LABELS.testProject] || undefined;
    if (options.project !== undefined && project !== undefined && project !== options.project) continue;
    const resultsPath = i.labels[LABELS.testResults]?.trim() || RESULTS_DIR;
    if (!resultsPath.startsWith('/')) continue;
    out.push({ ref: [...tags].sort()[0]!, id: i.id, type: i.labels[LABELS.testType] ?? '', resultsPath, project, labels: i.labels });
  }
  return out.sort((a, b) => compareNames(a.ref, b.ref));
}

/** The networks of a deployed project: those kiboko deploy (or compose) created for it. */
export async function projectNetworks(engine: Engine, project: string): Promise<string[]> {
  const names = new Set<string>();
  for (const label of [LABELS.deployProject, COMPOSE_PROJECT]) {
    for (const n of await engine.listNetworks([`${label}=${project}`])) if (n.labels[label] === project) names.add(n.name);
  }
  if (names.size === 0) {
    // Containers of the project may sit on networks it does not own (external ones).
    for (const label of [LABELS.deployProject, COMPOSE_PROJECT]) {
      for (const c of await engine.list({ labels: [`${label}=${project}`] })) {
        for (const net of Object.keys((await engine.inspect(c.id)).networks)) names.add(net);
      }
    }
  }
  return [...names].sort();
}

export interface IntegrationOptions extends DiscoverOptions {
  /** Run exactly these images (refs) instead of discovering them (they still need test.type). */
  images?: readonly string[] | undefined;
  /** Per test container (default 10 min). */
  timeoutMs?: number | undefined;
  env?: readonly string[] | undefined;
  /** Results copied out to `<reportDir>/results/<image>/`; nothing written when undefined. */
  reportDir?: string | undefined;
  /** Test containers at once (default 1: one after the other). */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  onEvent?: ((e: IntegrationEvent) => void) | undefined;
}

export type IntegrationEvent =
  | { type: 'discovered'; images: readonly TestImage[]; networks: readonly string[] }
  | { type: 'test-started'; image: string; container: string; networks: readonly string[] }
  | { type: 'test-finished'; image: string; result: TestCaseResult; results: readonly string[]; counts?: Totals | undefined }
  | { type: 'cleanup-warning'; message: string };

export interface IntegrationReport {
  /** 0 all passed, 1 a test failed, 2 no test images found, 3 could not run. */
  code: LifecycleCode;
  reason?: string | undefined;
  project?: string | undefined;
  networks: string[];
  suite: TestSuiteResult;
  /** Per image: the results files collected and the counts read from them. */
  results: Record<string, { files: string[]; counts?: Totals | undefined }>;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.-]+/, '').slice(0, 80) || 'test';

/** Discovers (or takes) integration-test images and runs them against a project; see the module comment. */
export async function runIntegrationTests(engine: Engine, options: IntegrationOptions = {}): Promise<IntegrationReport> {
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;
  const emit = (e: IntegrationEvent) => options.onEvent?.(e);
  const runId = `itest-${randomBytes(4).toString('hex')}`;
  const startedAt = clock.now();
  const cases: TestCaseResult[] = [];
  const results: IntegrationReport['results'] = {};
  let networks: string[] = [];
  const report = (code: LifecycleCode, reason?: string): IntegrationReport => ({
    code,
    reason,
    project: options.project,
    networks,
    suite: {
      name: `${options.type ?? 'all'} tests${options.project ? ` of ${options.project}` : ''}`,
      timestamp: new Date(startedAt).toISOString(),
      durationMs: clock.now() - startedAt,
      cases: [...cases],
      properties: { ...(options.project ? { project: options.project } : {}), networks: networks.join(',') },
    },
    results,
  });

  let images: TestImage[];
  if (options.images?.length) {
    images = [];
    for (const ref of options.images) {
      let d;
      try {
        d = await engine.inspectImage(ref);
      } catch (err) {
        const e = asKibokoError(err);
        if (e.code === 'TARGET_NOT_FOUND') return report(3, `image ${ref} is not on the engine`);
        throw e;
      }
      const type = d.labels[LABELS.testType];
      if (!type) return report(3, `image ${ref} has no ${LABELS.testType} label: it is not a test image`);
      if (options.type && type !== options.type) continue;
      const resultsPath = d.labels[LABELS.testResults]?.trim() || RESULTS_DIR;
      if (!resultsPath.startsWith('/')) return report(3, `image ${ref}: ${LABELS.testResults} must be an absolute path, got ${JSON.stringify(resultsPath)}`);
      images.push({ ref, id: d.id, type, resultsPath, project: d.labels[LABELS.testProject] || undefined, labels: d.labels });
    }
  } else images = await discoverTestImages(engine, options);

  if (options.project) {
    networks = await projectNetworks(engine, options.project);
    if (networks.length === 0) return report(3, `project ${options.project} has no networks: is it deployed? (see \`kiboko deploy plan -p ${options.project}\`)`);
  }
  emit({ type: 'discovered', images, networks });
  if (images.length === 0) return report(2, `no test images found (label ${LABELS.testType}${options.type ? `=${options.type}` : ''})`);

  const settled = await mapSettled(images, options.concurrency ?? 1, async (img, i) => {
    if (signal.aborted) return { name: img.ref, classname: img.type, status: 'error', durationMs: 0, message: 'cancelled' } satisfies TestCaseResult;
    return runOne(engine, img, i, runId, networks, { ...options, clock, signal }, emit, results);
  });
  for (const [i, s] of settled.entries()) {
    cases.push(s.ok ? s.value : { name: images[i]!.ref, classname: images[i]!.type, status: 'error', durationMs: 0, message: asKibokoError(s.error).message });
  }
  if (signal.aborted) return report(3, 'cancelled');
  const code = worstCode(cases.map((c) => (c.status === 'pass' || c.status === 'skipped' ? 0 : c.status === 'fail' ? 1 : 3)));
  const failed = cases.filter((c) => c.status !== 'pass' && c.status !== 'skipped');
  return report(code, failed.length ? `${failed.length} of ${cases.length} test container(s) did not pass: ${failed.map((c) => c.name).join(', ')}` : undefined);
}

async function runOne(
  engine: Engine,
  img: TestImage,
  index: number,
  runId: string,
  projectNets: readonly string[],
  o: IntegrationOptions & { clock: Clock; signal: AbortSignal },
  emit: (e: IntegrationEvent) => void,
  results: IntegrationReport['results'],
): Promise<TestCaseResult> {
  // A test image for another project (when none was named) runs on that project's networks.
  const nets = projectNets.length ? projectNets : img.project ? await projectNetworks(engine, img.project) : [];
  const name = `kiboko-${runId}-${index + 1}-${slug(img.ref)}`.slice(0, 120);
  const project = o.project ?? img.project;
  const ref = await engine.create({
    image: img.ref,
    name,
    labels: { [LABELS.managed]: 'true', [LABELS.role]: 'test', [LABELS.runId]: runId, [LABELS.testOf]: img.ref, [LABELS.skip]: 'true' },
    env: [...(o.env ?? []), `TEST_TYPE=${img.type}`, `TEST_RESULTS=${img.resultsPath}`, ...(project ? [`KIBOKO_PROJECT=${project}`] : [])],
    volumes: [img.resultsPath],
    ...(nets.length ? { networks: nets.map((n) => ({ name: n })) } : {}),
  });
  try {
    emit({ type: 'test-started', image: img.ref, container: name, networks: nets });
    const run = await runToCompletion(engine, ref.id, { timeoutMs: o.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS, signal: o.signal, clock: o.clock });
    let collected: CollectedResults = { files: [], truncated: false };
    try {
      collected = await collectResults(engine, ref.id, img.resultsPath, o.reportDir ? join(o.reportDir, 'results', slug(img.ref)) : undefined);
    } catch (err) {
      emit({ type: 'cleanup-warning', message: `could not copy the results of ${img.ref}: ${asKibokoError(err).message}` });
    }
    results[img.ref] = { files: collected.files, ...(collected.counts ? { counts: collected.counts } : {}) };
    const c = caseFrom(img.ref, img.type, [], run, collected, o.signal.aborted);
    emit({ type: 'test-finished', image: img.ref, result: c, results: collected.files, counts: collected.counts });
    return c;
  } finally {
    await engine.remove(ref.id, { force: true, volumes: true }).catch((err) => {
      if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) emit({ type: 'cleanup-warning', message: `could not remove ${name}: ${asKibokoError(err).message}` });
    });
  }
}

export interface GatedDeploy {
  run: DeployRun;
  /** The post-deploy tests, when the deploy itself succeeded. */
  tests?: IntegrationReport | undefined;
  /** The rollback a failed test run caused (to the last revision that was ok before this deploy). */
  rollback?: (DeployRun & { target: number }) | undefined;
  outcome: 'ok' | 'failed' | 'cancelled';
  detail?: string | undefined;
}

/**
 * A deploy that must pass its integration tests: apply, then run the project's test containers
 * (`test.type=<type>`); when they fail (or none exist), the revision is marked failed and the
 * project is rolled back to the last revision that was ok before it. Like Helm's test hooks, but
 * the verdict decides what stays deployed.
 */
export async function deployWithTests(
  engine: Engine,
  store: DeployStore,
  config: SystemConfig,
  deployOptions: Parameters<typeof deployProject>[3],
  tests: Omit<IntegrationOptions, 'project' | 'signal'> & { type: string },
): Promise<GatedDeploy> {
  validateTestType(tests.type);
  const before = store.latestOk(config.project);
  const run = await deployProject(engine, store, config, deployOptions);
  if (run.result.outcome !== 'ok') return { run, outcome: run.result.outcome };
  const report = await runIntegrationTests(engine, {
    ...tests,
    project: config.project,
    ...(deployOptions.signal ? { signal: deployOptions.signal } : {}),
    ...(deployOptions.clock && !tests.clock ? { clock: deployOptions.clock } : {}),
  });
  if (report.code === 0) return { run, tests: report, outcome: 'ok' };
  const why = report.code === 2 ? `no ${tests.type} test images found for ${config.project}, and the deploy requires them` : `post-deploy ${tests.type} tests did not pass: ${report.reason ?? `code ${report.code}`}`;
  store.finish(config.project, run.revision, 'failed', { ...run.result, outcome: 'failed', postDeployTests: { code: report.code, reason: report.reason, cases: report.suite.cases.map((c) => ({ name: c.name, status: c.status, message: c.message })) } });
  if (!run.plan.changes) return { run, tests: report, outcome: 'failed', detail: `${why}; the deploy changed nothing, so nothing was rolled back` };
  if (!before) return { run, tests: report, outcome: 'failed', detail: `${why}; no earlier successful revision of ${config.project} to roll back to — the new version stays` };
  const rollback = await rollbackProject(engine, store, config.project, {
    to: before.rev,
    ...(deployOptions.signal ? { signal: deployOptions.signal } : {}),
    ...(deployOptions.clock ? { clock: deployOptions.clock } : {}),
    ...(deployOptions.onEvent ? { onEvent: deployOptions.onEvent } : {}),
    ...(deployOptions.engineMode ? { engineMode: deployOptions.engineMode } : {}),
    ...(deployOptions.healthTimeoutMs ? { healthTimeoutMs: deployOptions.healthTimeoutMs } : {}),
  });
  return { run, tests: report, rollback, outcome: 'failed', detail: `${why}; rolled back to revision ${before.rev} as revision ${rollback.revision} (${rollback.result.outcome})` };
}
