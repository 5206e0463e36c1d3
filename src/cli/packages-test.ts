/**
 * `kiboko lifecycle` and `kiboko test`: parse, call the packages library, print. Both use typed
 * exit codes (0 ok, 1 failed, 2 not declared / no tests, 3 could not run), so errors that stop
 * the command before any container ran are reported as 3 here rather than with kiboko's usual
 * per-error codes (where 2 would read as "not declared").
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { asKibokoError, invalidArgument } from '../common/errors.js';
import { connectEngine, type Engine } from '../engine/index.js';
import type { IntegrationEvent, TestEvent, TestSuiteResult } from '../packages/index.js';
import { worstCode, type LifecycleEvent, type LifecycleResult } from '../methods/index.js';
import { connectionFlags, parseDurationFlag, parseConcurrency } from './options.js';
import type { PackagesOptions } from './packages-options.js';
import { installSignalHandlers } from './signals.js';

const COULD_NOT_RUN = 3;

/** Runs a command body; an error is printed like everywhere in kiboko but exits 3 (130 when cancelled). */
async function typed(json: boolean, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const e = asKibokoError(err);
    if (json) process.stdout.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: e.message, error: e.toJSON() })}\n`);
    else process.stderr.write(`kiboko: ${e.message}${e.hint ? ` — ${e.hint}` : ''}\n`);
    return e.code === 'CANCELLED' ? 130 : COULD_NOT_RUN;
  }
}

async function open(o: PackagesOptions<'lifecycle' | 'test'>): Promise<Engine> {
  const engine = await connectEngine(connectionFlags(o));
  await engine.info();
  return engine;
}


function keyValues(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    // `KEY` alone takes the value from kiboko's environment, as docker build does.
    if (eq < 0 && v && process.env[v] !== undefined) out[v] = process.env[v]!;
    else if (eq <= 0) throw invalidArgument(`invalid ${flag} '${v}': expected KEY=value (or the name of a set variable)`, `e.g. ${flag} VERSION=1.2`);
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function envList(values: readonly string[]): string[] {
  return values.map((v) => {
    if (v.includes('=')) return v;
    // `-e NAME` passes the variable through from kiboko's environment, as docker run does.
    const value = process.env[v];
    if (value === undefined) throw invalidArgument(`invalid --env '${v}': expected KEY=value (or the name of a set variable)`, 'e.g. --env LOG_LEVEL=debug');
    return `${v}=${value}`;
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const MARK: Record<LifecycleResult['outcome'], string> = { ok: '✔', failed: '✖', 'not-declared': '–', 'could-not-run': '!' };

/** Splits streamed chunks into whole lines per container, so prefixes never land mid-line. */
class LinePrefixer {
  private readonly partial = new Map<string, string>();
  constructor(private readonly prefix: boolean) {}
  write(name: string, stream: 'stdout' | 'stderr', text: string) {
    const out = stream === 'stdout' ? process.stdout : process.stderr;
    if (!this.prefix) return void out.write(text);
    const key = `${name}\0${stream}`;
    const lines = ((this.partial.get(key) ?? '') + text).split('\n');
    this.partial.set(key, lines.pop()!);
    for (const l of lines) out.write(`${name} | ${l}\n`);
  }
  flush(name: string) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = `${name}\0${stream}`;
      const rest = this.partial.get(key);
      if (rest) (stream === 'stdout' ? process.stdout : process.stderr).write(this.prefix ? `${name} | ${rest}\n` : rest);
      this.partial.delete(key);
    }
  }
}

export async function runLifecycleCommand(o: PackagesOptions<'lifecycle'>, args: string[]): Promise<number> {
  const json = Boolean(o.json);
  return typed(json, async () => {
    const [method, ...targets] = args;
    const p = await import('../methods/index.js');
    p.validateMethodName(method ?? '');
    const timeoutMs = parseDurationFlag(o.timeout, '--timeout') ?? p.DEFAULT_METHOD_TIMEOUT_MS;
    if (timeoutMs <= 0) throw invalidArgument(`invalid --timeout '${o.timeout}': must be longer than 0`, 'e.g. --timeout 30s');
    const concurrency = o.concurrency === undefined ? 8 : parseConcurrency(o.concurrency);
    const engine = await open(o);
    const signals = installSignalHandlers((m) => process.stderr.write(`${m}\n`));
    try {
      const containers = await p.selectLifecycleTargets(engine, method!, targets, { all: Boolean(o.all), labels: o.label ?? [] });
      const out = new LinePrefixer(containers.length > 1);
      const onEvent = (e: LifecycleEvent) => {
        if (json) {
          if (e.type === 'method-output') process.stdout.write(`${JSON.stringify({ event: e.type, container: e.container.name, stream: e.stream, text: e.text })}\n`);
          else if (e.type === 'method-started') process.stdout.write(`${JSON.stringify({ event: e.type, container: e.container.name, id: e.container.id, method: e.method, command: e.command })}\n`);
          else process.stdout.write(`${JSON.stringify({ event: e.type, ...summary(e.result) })}\n`);
          return;
        }
        if (e.type === 'method-output' && !o.quiet) out.write(e.container.name, e.stream, e.text);
        if (e.type === 'method-finished') {
          out.flush(e.result.container.name);
          const r = e.result;
          const what = r.outcome === 'ok' ? 'ok' : r.outcome === 'failed' ? 'failed' : r.outcome === 'not-declared' ? 'not declared' : 'could not run';
          process.stderr.write(`${MARK[r.outcome]} ${r.container.name}: ${r.method} ${what}${r.reason && r.outcome !== 'not-declared' ? ` — ${r.reason}` : ''} (exit ${r.code}, ${seconds(r.durationMs)})\n`);
        }
      };
      const report = await p.runLifecycle(engine, containers, method!, {
        timeoutMs,
        concurrency,
        signal: signals.signal,
        onEvent,
        ...(o.user ? { user: o.user } : {}),
        ...((o.env ?? []).length ? { env: envList(o.env ?? []) } : {}),
      });
      if (json) process.stdout.write(`${JSON.stringify({ event: 'lifecycle-finished', method: report.method, code: report.code, results: report.results.map(summary) })}\n`);
      else if (report.results.length === 0) process.stderr.write(`no running container declares ${method} (label ${p.methodLabel(method!)})\n`);
      else if (report.results.length > 1) {
        const counts = new Map<string, number>();
        for (const r of report.results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
        process.stderr.write(`${method}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')} → exit ${report.code}\n`);
      }
      return report.code;
    } finally {
      signals.dispose();
      engine.close();
    }
  });
}

function summary(r: LifecycleResult) {
  return {
    container: r.container.name,
    id: r.container.id,
    method: r.method,
    code: r.code,
    outcome: r.outcome,
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.command ? { command: r.command } : {}),
    durationMs: r.durationMs,
  };
}

const isDirectory = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * docker-test's `IMAGE [PATH]`: the build context is PATH (a last argument naming a folder, after
 * at least one image), else --context, else the current directory — so an image's
 * `ONBUILD COPY test.sh /test.sh` takes test.sh from the application's folder, as
 * `docker build -f Dockerfile.test .` does.
 */
export function imagesAndContext(args: readonly string[], contextFlag: unknown, cwd = process.cwd()): { images: string[]; contextDir: string } {
  let images = [...args];
  let context = contextFlag === undefined ? undefined : String(contextFlag);
  const last = args.at(-1);
  if (args.length >= 2 && last !== undefined && isDirectory(resolve(cwd, last))) {
    if (context !== undefined) throw invalidArgument(`the build context is given twice: PATH ${last} and --context ${context}`, 'give it once: kiboko test IMAGE PATH (or --context PATH)');
    context = last;
    images = images.slice(0, -1);
  }
  return { images, contextDir: resolve(cwd, context ?? '.') };
}

export async function runTestCommand(o: PackagesOptions<'test'>, rawArgs: string[]): Promise<number> {
  const json = Boolean(o.json);
  return typed(json, async () => {
    const { images: args, contextDir } = o.integration ? { images: rawArgs, contextDir: undefined } : imagesAndContext(rawArgs, o.context);
    const p = await import('../packages/index.js');
    const timeoutMs = parseDurationFlag(o.timeout, '--timeout');
    if (timeoutMs !== undefined && timeoutMs <= 0) throw invalidArgument(`invalid --timeout '${o.timeout}': must be longer than 0`, 'e.g. --timeout 5m');
    const reportDir = resolve(o.reportDir ?? 'test-results');
    const env = envList(o.env ?? []);
    const say = (line: string) => (json ? undefined : process.stderr.write(`${line}\n`));
    const emitJson = (record: Record<string, unknown>) => (json ? process.stdout.write(`${JSON.stringify(record)}\n`) : undefined);
    checkTestFlags(o, args);
    const engine = await open(o);
    const signals = installSignalHandlers((m) => process.stderr.write(`${m}\n`));
    try {
      if (o.integration) {
        const report = await p.runIntegrationTests(engine, {
          type: o.type,
          project: o.project,
          labels: o.label ?? [],
          images: args,
          env,
          reportDir,
          ...(timeoutMs ? { timeoutMs } : {}),
          ...(o.concurrency !== undefined ? { concurrency: parseConcurrency(o.concurrency) } : {}),
          signal: signals.signal,
          onEvent: (e: IntegrationEvent) => {
            emitJson({ event: e.type, ...integrationEventFields(e) });
            if (e.type === 'discovered') say(`${e.images.length} test image(s)${e.images.length ? `: ${e.images.map((i) => `${i.ref} (${i.type})`).join(', ')}` : ''}${e.networks.length ? ` on ${e.networks.join(', ')}` : ''}`);
            if (e.type === 'test-started') say(`▶ ${e.image} as ${e.container}`);
            if (e.type === 'test-finished') {
              say(`${e.result.status === 'pass' ? '✔' : '✖'} ${e.image}: ${e.result.status}${e.result.message ? ` — ${e.result.message}` : ''} (${seconds(e.result.durationMs)}; ${e.results.length} result file(s)${e.counts ? `, ${e.counts.passed}/${e.counts.tests} passed` : ''})`);
              if (o.verbose && e.result.stdout) process.stderr.write(indent(e.result.stdout));
            }
            if (e.type === 'cleanup-warning') say(`warning: ${e.message}`);
          },
        });
        const files = report.code === 2 && report.suite.cases.length === 0 ? undefined : p.writeTestReports(reportDir, [report.suite], { project: report.project, networks: report.networks, results: report.results, code: report.code, reason: report.reason }, 'kiboko test --integration');
        return finish(report.code, report.reason, files, [report.suite]);
      }
      let worst: 0 | 1 | 2 | 3 = 0;
      const suites: TestSuiteResult[] = [];
      const extras: Record<string, unknown>[] = [];
      const reasons: string[] = [];
      for (const image of args) {
        if (signals.signal.aborted) break;
        const r = await p.testImage(engine, image, {
          contextDir,
          buildArgs: keyValues(o.buildArg ?? [], '--build-arg'),
          noCache: o.cache === false,
          pull: Boolean(o.pull),
          env,
          network: o.network,
          keep: Boolean(o.keep),
          timeoutMs,
          reportDir: args.length > 1 ? resolve(reportDir, slugOf(image)) : reportDir,
          signal: signals.signal,
          onEvent: (e: TestEvent) => {
            if (e.type !== 'build-output' || o.verbose) emitJson({ event: e.type, image, ...testEventFields(e) });
            if (e.type === 'build-started') say(`building ${e.testImage} FROM ${e.image}`);
            if (e.type === 'build-output' && o.verbose) say(`  ${e.line}`);
            if (e.type === 'test-started') say(`▶ ${e.name}: ${e.command.length ? JSON.stringify(e.command) : "the test image's own command"}`);
            if (e.type === 'test-finished') {
              say(`${e.result.status === 'pass' ? '✔' : '✖'} ${e.result.name}: ${e.result.status}${e.result.message ? ` — ${e.result.message}` : ''} (${seconds(e.result.durationMs)}${e.results.length ? `; ${e.results.length} result file(s)` : ''})`);
              if ((o.verbose || e.result.status !== 'pass') && e.result.stdout && !json) process.stderr.write(indent(e.result.stdout));
            }
            if (e.type === 'cleanup-warning') say(`warning: ${e.message}`);
          },
        });
        worst = worstCode([worst, r.code]);
        if (r.reason) reasons.push(args.length > 1 ? `${image}: ${r.reason}` : r.reason);
        if (r.code !== 2 && !(r.code === 3 && r.suite.cases.length === 0)) suites.push(r.suite);
        extras.push({ image: r.image, testImage: r.testImage, code: r.code, reason: r.reason, dockerfile: r.dockerfile, results: r.results });
      }
      if (signals.signal.aborted) worst = 3;
      const files = suites.length ? p.writeTestReports(reportDir, suites, { images: extras, code: worst }) : undefined;
      return finish(worst, reasons.join('; ') || undefined, files, suites);
    } finally {
      signals.dispose();
      engine.close();
    }
  });

  function finish(code: number, reason: string | undefined, files: { junit: string; json: string } | undefined, suites: readonly TestSuiteResult[]): number {
    const cases = suites.flatMap((s) => s.cases);
    const passed = cases.filter((c) => c.status === 'pass').length;
    if (json) process.stdout.write(`${JSON.stringify({ event: 'test-finished-all', code, reason, passed, total: cases.length, junit: files?.junit, report: files?.json })}\n`);
    else {
      const verdict = code === 0 ? 'passed' : code === 1 ? 'FAILED' : code === 2 ? 'no tests' : 'could not run';
      process.stderr.write(`${verdict}: ${passed}/${cases.length} passed${reason && code !== 0 ? ` — ${reason}` : ''} (exit ${code})\n`);
      if (files) process.stderr.write(`reports: ${files.junit}, ${files.json}\n`);
    }
    return code;
  }
}

/** The flags of one mode only: an image's own tests, or --integration (the project's test images). */
function checkTestFlags(o: PackagesOptions<'test'>, args: readonly string[]): void {
  if (o.integration) {
    for (const flag of ['context', 'buildArg', 'keep', 'network'] as const) {
      if (o[flag] !== undefined) throw invalidArgument(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} does not apply to --integration`, 'test images run as they are, on the project networks');
    }
  } else {
    if (o.type !== undefined || o.project !== undefined) throw invalidArgument('--type and --project go with --integration', 'e.g. kiboko test --integration --type integration --project shop');
    if (args.length === 0) throw invalidArgument('no image given', 'e.g. kiboko test app:1.4 (or kiboko test --integration)');
  }
}

const slugOf = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
const indent = (text: string) => `${text.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n')}\n`;

function testEventFields(e: TestEvent): Record<string, unknown> {
  switch (e.type) {
    case 'test-finished':
      return { name: e.result.name, status: e.result.status, exitCode: e.result.exitCode, message: e.result.message, durationMs: e.result.durationMs, results: e.results };
    default: {
      const { type: _t, ...rest } = e;
      return rest;
    }
  }
}

function integrationEventFields(e: IntegrationEvent): Record<string, unknown> {
  switch (e.type) {
    case 'discovered':
      return { images: e.images.map((i) => ({ ref: i.ref, type: i.type, resultsPath: i.resultsPath, project: i.project })), networks: e.networks };
    case 'test-finished':
      return { image: e.image, status: e.result.status, exitCode: e.result.exitCode, message: e.result.message, durationMs: e.result.durationMs, results: e.results, counts: e.counts };
    default: {
      const { type: _t, ...rest } = e;
      return rest;
    }
  }
}
