/**
 * `kiboko test IMAGE[:TAG]`: test-aware images (ONTEST emulation).
 *
 * An image declares its tests with labels — `kiboko.ontest` (a JSON list of test commands) and,
 * optionally, `kiboko.ontest.build` (Dockerfile instructions replayed only in the test build, so
 * ordinary children of the image stay clean, unlike ONBUILD). kiboko generates a Dockerfile.test
 * `FROM image:tag` (the image's own ONBUILD triggers fire there too, as in any direct child),
 * builds `image:tag-test`, runs each test command in a container of it with a results directory
 * mounted at /var/tests/results, copies that directory out with the engine's archive API (so it
 * works on a remote engine), and writes JUnit and JSON reports. The test image, the containers,
 * their volumes and the temporary build context are removed whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import tarStream from 'tar-stream';
import { onAbort } from '../common/abort.js';
import { systemClock, type Clock } from '../common/clock.js';
import { asKibokoError, invalidArgument, isAbortError, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { splitShellWords } from '../shellwords/index.js';
import type { ContainerSpec, Engine, ImageDetails } from '../engine/index.js';
import { jsonReport, junitXml, readJsonCounts, readJunitCounts, type TestCaseResult, type TestSuiteResult, type Totals } from './junit.js';
import { worstCode, type LifecycleCode } from '../methods/index.js';

export const RESULTS_DIR = '/var/tests/results';
export const DEFAULT_TEST_TIMEOUT_MS = 10 * 60_000;

/** kiboko test exit codes, as lifecycle's: 0 all passed, 1 a test failed, 2 no tests declared, 3 could not run. */
export const TEST_EXIT = { passed: 0, failed: 1, noTests: 2, couldNotRun: 3 } as const;

export interface TestCommand {
  name: string;
  cmd: readonly string[];
  /** Keep the image's ENTRYPOINT and pass `cmd` as its arguments (default: `cmd` replaces it). */
  entrypoint: boolean;
}

const TEST_HINT = `e.g. LABEL ${LABELS.ontest}='[["sh","-c","/tests/run.sh"], {"name":"smoke","cmd":"/bin/app --self-test"}]'`;

/**
 * The test list an image declares in `kiboko.ontest`: a JSON list whose items are a command string
 * (shell words, no shell), an argv list, or `{name, cmd, entrypoint}`.
 */
export function parseTestCommands(labels: Readonly<Record<string, string>>): TestCommand[] {
  const raw = labels[LABELS.ontest];
  if (raw === undefined || raw.trim() === '') return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (cause) {
    throw invalidArgument(`invalid ${LABELS.ontest} label: expected a JSON list, got ${JSON.stringify(raw.slice(0, 200))}`, TEST_HINT, cause);
  }
  if (!Array.isArray(list)) throw invalidArgument(`invalid ${LABELS.ontest} label: expected a JSON list, got ${typeof list}`, TEST_HINT);
  const names = new Set<string>();
  return list.map((item, i): TestCommand => {
    const where = `${LABELS.ontest}[${i}]`;
    let name: string | undefined;
    let cmd: unknown = item;
    let entrypoint = false;
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const o = item as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!['name', 'cmd', 'entrypoint'].includes(k)) throw invalidArgument(`invalid ${where}: unknown key ${JSON.stringify(k)}`, 'keys: name, cmd, entrypoint');
      if (o.name !== undefined && (typeof o.name !== 'string' || o.name.trim() === '')) throw invalidArgument(`invalid ${where}.name: expected a non-empty string, got ${JSON.stringify(o.name)}`, TEST_HINT);
      if (o.entrypoint !== undefined && typeof o.entrypoint !== 'boolean') throw invalidArgument(`invalid ${where}.entrypoint: expected true or false, got ${JSON.stringify(o.entrypoint)}`, TEST_HINT);
      name = o.name as string | undefined;
      cmd = o.cmd;
      entrypoint = (o.entrypoint as boolean | undefined) ?? false;
    }
    let argv: string[];
    if (typeof cmd === 'string') {
      try {
        argv = splitShellWords(cmd);
      } catch (err) {
        throw invalidArgument(`invalid ${where}: ${asKibokoError(err).message}`, asKibokoError(err).hint ?? TEST_HINT);
      }
    } else if (Array.isArray(cmd) && cmd.every((w) => typeof w === 'string')) argv = cmd as string[];
    else throw invalidArgument(`invalid ${where}: expected a command string, a list of strings or {name, cmd}, got ${JSON.stringify(cmd)}`, TEST_HINT);
    if (argv.length === 0 || argv[0] === '') throw invalidArgument(`invalid ${where}: empty command`, TEST_HINT);
    let unique = name?.trim() ?? `test-${i + 1}`;
    if (names.has(unique)) unique = `${unique}-${i + 1}`;
    names.add(unique);
    return { name: unique, cmd: argv, entrypoint };
  });
}

const FORBIDDEN_ONTEST = new Set(['FROM', 'ONBUILD', 'MAINTAINER']);

/** The ONTEST instructions an image declares in `kiboko.ontest.build`: one Dockerfile instruction per item. */
export function parseOntestInstructions(labels: Readonly<Record<string, string>>): string[] {
  const raw = labels[LABELS.ontestBuild];
  if (raw === undefined || raw.trim() === '') return [];
  const hint = `e.g. LABEL ${LABELS.ontestBuild}='["COPY tests/ /tests/", "RUN /tests/setup.sh"]'`;
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (cause) {
    throw invalidArgument(`invalid ${LABELS.ontestBuild} label: expected a JSON list of Dockerfile instructions, got ${JSON.stringify(raw.slice(0, 200))}`, hint, cause);
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw invalidArgument(`invalid ${LABELS.ontestBuild} label: expected a JSON list of strings`, hint);
  return (list as string[]).map((line, i) => {
    const text = line.trim();
    // One instruction per item: a newline would smuggle in further instructions.
    if (/[\r\n]/.test(text)) throw invalidArgument(`invalid ${LABELS.ontestBuild}[${i}]: expected one instruction on one line`, hint);
    const keyword = /^([A-Za-z]+)\s/.exec(text)?.[1]?.toUpperCase();
    if (!keyword) throw invalidArgument(`invalid ${LABELS.ontestBuild}[${i}]: expected a Dockerfile instruction, got ${JSON.stringify(text)}`, hint);
    if (FORBIDDEN_ONTEST.has(keyword)) throw invalidArgument(`invalid ${LABELS.ontestBuild}[${i}]: ${keyword} is not allowed in ONTEST instructions`, hint);
    return text;
  });
}

/** `repo:tag` → `repo:tag-test`; a digest or an image id gets a tag derived from it. */
export function testImageRef(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) {
    const hex = image.slice(at + 1).replace(/^[a-z0-9]+:/, '');
    return `${image.slice(0, at)}:${hex.slice(0, 12)}-test`;
  }
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(image)) return `kiboko-test:${image.replace(/^sha256:/, '').slice(0, 12)}-test`;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const [repo, tag] = colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, 'latest'];
  const testTag = `${tag}-test`;
  if (testTag.length > 128) throw invalidArgument(`tag '${tag}' is too long to derive a test tag from (${testTag.length} > 128 characters)`, 'tag the image with a shorter tag and test that');
  return `${repo}:${testTag}`;
}

/** The generated Dockerfile.test: FROM the image (its ONBUILD triggers fire here), then the ONTEST instructions. */
export function generateDockerfileTest(image: string, instructions: readonly string[]): string {
  return [`# generated by kiboko test for ${image.replace(/[\r\n]/g, ' ')}; removed after the run`, `FROM ${image}`, ...instructions, ''].join('\n');
}

/** The relative path a results file ends up under, or undefined when it would escape the folder. */
export function safeRelative(name: string, strip: number): string | undefined {
  const parts = posix.normalize(name.replace(/\\/g, '/')).split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  const rest = parts.slice(strip);
  return rest.length ? rest.join('/') : undefined;
}

export interface CollectedResults {
  /** Files copied out, relative to the results directory. */
  files: string[];
  /** Counts read from the JUnit / JSON files among them (summed), when there were any. */
  counts?: Totals | undefined;
  /** Bytes skipped over the size limit. */
  truncated: boolean;
}

const MAX_RESULTS_BYTES = 256 * 1024 * 1024;

/**
 * Copies a results directory out of a (finished) container through the archive API: regular
 * files and folders only, no path may leave `destDir`, at most 256 MiB. JUnit (`*.xml`) and JSON
 * files are read for their pass/fail counts. A missing directory means no results.
 */
export async function collectResults(engine: Engine, containerId: string, path: string, destDir: string | undefined): Promise<CollectedResults> {
  let tar: Buffer;
  try {
    tar = await engine.getArchive(containerId, path);
  } catch (err) {
    if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return { files: [], truncated: false };
    throw err;
  }
  const files: string[] = [];
  let counts: Totals | undefined;
  let total = 0;
  let truncated = false;
  const extract = tarStream.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const { header } = entry;
      const rel = safeRelative(header.name, 1);
      if (!rel || (header.type !== 'file' && header.type !== 'directory')) {
        entry.resume();
        continue;
      }
      if (header.type === 'directory') {
        if (destDir) mkdirSync(join(destDir, rel), { recursive: true });
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      total += body.length;
      if (total > MAX_RESULTS_BYTES) {
        truncated = true;
        continue;
      }
      files.push(rel);
      if (destDir) {
        const target = join(destDir, rel);
        mkdirSync(join(target, '..'), { recursive: true });
        writeFileSync(target, body, { mode: 0o644 });
      }
      const lower = rel.toLowerCase();
      const found = lower.endsWith('.xml') ? readJunitCounts(body.toString('utf8')) : lower.endsWith('.json') ? readJsonCounts(body.toString('utf8')) : undefined;
      if (found) counts = addTotals(counts, found);
    }
  })();
  extract.end(tar);
  await done;
  return { files: files.sort(), counts, truncated };
}

function addTotals(a: Totals | undefined, b: Totals): Totals {
  if (!a) return b;
  return { tests: a.tests + b.tests, passed: a.passed + b.passed, failures: a.failures + b.failures, errors: a.errors + b.errors, skipped: a.skipped + b.skipped };
}

export type TestEvent =
  | { type: 'build-started'; image: string; testImage: string; dockerfile: string }
  | { type: 'build-output'; line: string }
  | { type: 'test-started'; name: string; container: string; command: readonly string[] }
  | { type: 'test-finished'; result: TestCaseResult; results: readonly string[] }
  | { type: 'cleanup-warning'; message: string };

/** Reports keep the last MiB of a test's output (the start of a huge log rarely says what failed). */
const MAX_OUTPUT = 1024 * 1024;
const keepTail = (s: string) => (s.length > MAX_OUTPUT ? `[… ${s.length - MAX_OUTPUT} characters cut …]\n${s.slice(s.length - MAX_OUTPUT)}` : s);

export interface ContainerRunOptions {
  timeoutMs: number;
  signal: AbortSignal;
  clock: Clock;
}

export interface ContainerRunResult {
  exitCode?: number | undefined;
  timedOut: boolean;
  output: string;
  durationMs: number;
  /** The container could not be started (e.g. its command does not exist in the image). */
  startError?: string | undefined;
}

/**
 * Starts a created container, waits for it to exit (killing it at the timeout or on cancel) and
 * returns its exit code and output. The caller removes the container.
 */
export async function runToCompletion(engine: Engine, id: string, o: ContainerRunOptions): Promise<ContainerRunResult> {
  const started = o.clock.now();
  const stop = new AbortController();
  const off = onAbort(o.signal, () => stop.abort());
  let timedOut = false;
  const timer = o.clock.sleep(o.timeoutMs, stop.signal).then(
    () => {
      timedOut = true;
      stop.abort();
    },
    () => undefined,
  );
  try {
    try {
      await engine.start(id);
    } catch (err) {
      const e = asKibokoError(err);
      if (e.code === 'ENGINE_UNREACHABLE') throw e;
      return { exitCode: undefined, timedOut: false, output: await engine.logs(id).catch(() => ''), durationMs: o.clock.now() - started, startError: e.message };
    }
    let exitCode: number | undefined;
    try {
      // Raced with the signal: an engine call that misses the abort must not hold the run.
      const aborted = new Promise<never>((_, reject) => {
        onAbort(stop.signal, () => reject(new KibokoError('CANCELLED', `wait ${id}: cancelled`)));
      });
      aborted.catch(() => undefined);
      const waiting = engine.wait(id, stop.signal);
      waiting.catch(() => undefined);
      exitCode = await Promise.race([waiting, aborted]);
    } catch (err) {
      if (!timedOut && !o.signal.aborted && !isAbortError(err) && !(err instanceof KibokoError && err.code === 'CANCELLED')) throw err;
    }
    if (timedOut || o.signal.aborted) {
      await engine.kill(id, 'SIGKILL').catch(() => undefined);
      exitCode = undefined;
    }
    const output = keepTail(await engine.logs(id).catch(() => ''));
    return { exitCode, timedOut, output, durationMs: o.clock.now() - started };
  } finally {
    off();
    stop.abort();
    await timer;
  }
}

export interface ImageTestOptions {
  /** Build context for the ONTEST instructions (COPY sources); default an empty folder. */
  contextDir?: string | undefined;
  buildArgs?: Readonly<Record<string, string>> | undefined;
  noCache?: boolean | undefined;
  pull?: boolean | undefined;
  /** `KEY=value` for every test container. */
  env?: readonly string[] | undefined;
  /** Network mode / network for the test containers (default: the engine's default bridge). */
  network?: string | undefined;
  /** Keep `image:tag-test` afterwards. */
  keep?: boolean | undefined;
  /** Per test (default 10 min). */
  timeoutMs?: number | undefined;
  /** Results copied out to `<reportDir>/results/<test>/`; nothing written when undefined. */
  reportDir?: string | undefined;
  signal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  onEvent?: ((e: TestEvent) => void) | undefined;
}

export interface ImageTestReport {
  image: string;
  testImage: string;
  /** 0 all passed, 1 a test failed, 2 no tests declared, 3 could not run. */
  code: LifecycleCode;
  /** Why it could not run, or that there are no tests. */
  reason?: string | undefined;
  dockerfile: string;
  suite: TestSuiteResult;
  /** Results files copied out per test. */
  results: Record<string, string[]>;
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[_.-]+/, '').slice(0, 60) || 'test';

/** Runs the tests an image declares; see the module comment. Never leaves a test image, container or temp folder behind. */
export async function testImage(engine: Engine, image: string, options: ImageTestOptions = {}): Promise<ImageTestReport> {
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;
  const emit = (e: TestEvent) => options.onEvent?.(e);
  const runId = `test-${randomBytes(4).toString('hex')}`;
  const startedAt = clock.now();
  const testRef = testImageRef(image);
  const cases: TestCaseResult[] = [];
  const results: Record<string, string[]> = {};
  let dockerfile = '';
  const report = (code: LifecycleCode, reason?: string): ImageTestReport => ({
    image,
    testImage: testRef,
    code,
    reason,
    dockerfile,
    suite: { name: image, timestamp: new Date(startedAt).toISOString(), durationMs: clock.now() - startedAt, cases: [...cases], properties: { testImage: testRef } },
    results,
  });

  let details: ImageDetails;
  try {
    details = await engine.inspectImage(image);
  } catch (err) {
    const e = asKibokoError(err);
    if (e.code === 'TARGET_NOT_FOUND') return report(3, `image ${image} is not on the engine (build or pull it first)`);
    throw e;
  }
  let commands: TestCommand[];
  let instructions: string[];
  try {
    commands = parseTestCommands(details.labels);
    instructions = parseOntestInstructions(details.labels);
  } catch (err) {
    return report(3, asKibokoError(err).message);
  }
  if (commands.length === 0 && instructions.length === 0 && details.onBuild.length === 0) {
    return report(2, `${image} declares no tests (no ${LABELS.ontest} or ${LABELS.ontestBuild} label, no ONBUILD triggers)`);
  }
  // Without a command list the test image's own command is the test (its ONTEST CMD, say).
  if (commands.length === 0) commands = [{ name: 'default', cmd: [], entrypoint: true }];

  if (await engine.imageExists(testRef)) {
    const existing = await engine.inspectImage(testRef);
    if (existing.labels[LABELS.testOf] === undefined) {
      return report(3, `${testRef} exists and was not made by kiboko test; it is left alone`);
    }
  }

  dockerfile = generateDockerfileTest(/^(sha256:)?[0-9a-f]{64}$/.test(image) ? details.id : image, instructions);
  const ownContext = options.contextDir === undefined ? mkdtempSync(join(tmpdir(), 'kiboko-test-')) : undefined;
  let built = false;
  const containers: string[] = [];
  try {
    emit({ type: 'build-started', image, testImage: testRef, dockerfile });
    const buildStarted = clock.now();
    try {
      await engine.buildImage({
        contextDir: options.contextDir ?? ownContext!,
        tag: testRef,
        dockerfileContent: dockerfile,
        labels: { [LABELS.testOf]: image, [LABELS.managed]: 'true', [LABELS.role]: 'test', [LABELS.runId]: runId },
        ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}),
        ...(options.noCache ? { noCache: true } : {}),
        ...(options.pull ? { pull: true } : {}),
        signal,
        onProgress: (line) => emit({ type: 'build-output', line }),
      });
      built = true;
    } catch (err) {
      const e = asKibokoError(err);
      if (e.code === 'ACTION_FAILED') {
        // A failing ONTEST (or ONBUILD) step is a failing test: its RUN returned non-zero.
        built = await engine.imageExists(testRef).catch(() => false);
        cases.push({ name: `build ${testRef}`, classname: image, status: 'fail', durationMs: clock.now() - buildStarted, message: e.message, stdout: dockerfile });
        return report(1, e.message);
      }
      throw e;
    }

    for (const t of commands) {
      if (signal.aborted) break;
      const { result, files } = await runTestContainer(engine, t, { image, testRef, runId, options, signal, clock, emit, containers });
      results[t.name] = files;
      cases.push(result);
    }
    if (signal.aborted) return report(3, 'cancelled');
    const code = worstCode(cases.map((c) => (c.status === 'pass' || c.status === 'skipped' ? 0 : c.status === 'fail' ? 1 : 3)));
    return report(code, code === 1 ? `${cases.filter((c) => c.status === 'fail').length} of ${cases.length} test(s) failed` : undefined);
  } finally {
    for (const id of containers) await removeContainer(engine, id, emit);
    if (built && !options.keep) {
      await engine.removeImage(testRef).catch((err) => emit({ type: 'cleanup-warning', message: `could not remove ${testRef}: ${asKibokoError(err).message}` }));
    }
    if (ownContext) rmSync(ownContext, { recursive: true, force: true });
  }
}

/** What one test container needs from its run; `containers` lists the ones not removed yet (the caller's cleanup). */
interface TestRun {
  image: string;
  testRef: string;
  runId: string;
  options: ImageTestOptions;
  signal: AbortSignal;
  clock: Clock;
  emit: (e: TestEvent) => void;
  containers: string[];
}

/** Runs one declared test in its own container from the test image, copies its results out and removes it. */
async function runTestContainer(engine: Engine, t: TestCommand, r: TestRun): Promise<{ result: TestCaseResult; files: string[] }> {
  const { image, testRef, runId, options, signal, clock, emit, containers } = r;
  const name = `kiboko-${runId}-${slug(t.name)}`.slice(0, 120);
  const spec: ContainerSpec = {
    image: testRef,
    name,
    labels: { [LABELS.managed]: 'true', [LABELS.role]: 'test', [LABELS.runId]: runId, [LABELS.testOf]: image, [LABELS.skip]: 'true' },
    env: [...(options.env ?? []), `KIBOKO_TEST_NAME=${t.name}`, `KIBOKO_TEST_RESULTS=${RESULTS_DIR}`],
    volumes: [RESULTS_DIR],
    ...(options.network ? { networkMode: options.network } : {}),
    ...(t.cmd.length === 0 ? {} : t.entrypoint ? { cmd: t.cmd } : { entrypoint: [t.cmd[0]!], cmd: t.cmd.slice(1) }),
  };
  const ref = await engine.create(spec);
  containers.push(ref.id);
  emit({ type: 'test-started', name: t.name, container: name, command: t.cmd });
  const run = await runToCompletion(engine, ref.id, { timeoutMs: options.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS, signal, clock });
  const dest = options.reportDir ? join(options.reportDir, 'results', slug(t.name)) : undefined;
  let collected: CollectedResults = { files: [], truncated: false };
  try {
    collected = await collectResults(engine, ref.id, RESULTS_DIR, dest);
  } catch (err) {
    emit({ type: 'cleanup-warning', message: `could not copy the results of ${t.name}: ${asKibokoError(err).message}` });
  }
  const c = caseFrom(t.name, image, t.cmd, run, collected, signal.aborted);
  emit({ type: 'test-finished', result: c, results: collected.files });
  await removeContainer(engine, ref.id, emit);
  containers.splice(containers.indexOf(ref.id), 1);
  return { result: c, files: collected.files };
}

async function removeContainer(engine: Engine, id: string, emit: (e: TestEvent) => void) {
  await engine.remove(id, { force: true, volumes: true }).catch((err) => {
    if (!(err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND')) emit({ type: 'cleanup-warning', message: `could not remove test container ${id.slice(0, 12)}: ${asKibokoError(err).message}` });
  });
}

/** A test passes when it exits 0 and the results it wrote (JUnit / JSON) report no failure. */
export function caseFrom(name: string, classname: string, command: readonly string[], run: ContainerRunResult, collected: CollectedResults, cancelled: boolean): TestCaseResult {
  const base = { name, classname, durationMs: run.durationMs, command: command.length ? command : undefined, exitCode: run.exitCode, stdout: run.output };
  if (cancelled) return { ...base, status: 'error', message: 'cancelled' };
  if (run.startError) return { ...base, status: 'error', message: `could not start: ${run.startError}` };
  if (run.timedOut) return { ...base, status: 'fail', message: `timed out after ${Math.round(run.durationMs / 1000)}s (killed)` };
  if (run.exitCode !== 0) {
    const last = run.output.trimEnd().split('\n').slice(-1)[0] ?? '';
    return { ...base, status: 'fail', message: `exited with ${run.exitCode}${last ? `: ${last}` : ''}` };
  }
  const n = collected.counts;
  if (n && (n.failures > 0 || n.errors > 0)) {
    return { ...base, status: 'fail', message: `exited 0 but its results report ${n.failures} failure(s) and ${n.errors} error(s) of ${n.tests}` };
  }
  return { ...base, status: 'pass' };
}

/** Writes `<dir>/junit.xml` and `<dir>/report.json`; returns their paths. */
export function writeTestReports(dir: string, suites: readonly TestSuiteResult[], extra: Record<string, unknown> = {}, name = 'kiboko test'): { junit: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const junit = join(dir, 'junit.xml');
  const json = join(dir, 'report.json');
  writeFileSync(junit, junitXml(suites, name));
  writeFileSync(json, `${JSON.stringify(jsonReport(suites, extra), null, 2)}\n`);
  return { junit, json };
}
