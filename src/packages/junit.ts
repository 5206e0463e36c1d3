/**
 * Test reports: JUnit XML (the de-facto CI format: testsuites › testsuite › testcase, with
 * failure/error, system-out and system-err) and a JSON twin, plus a lenient reader for the JUnit
 * files test containers write themselves.
 */

export interface TestCaseResult {
  name: string;
  /** JUnit classname: the image or the test container it ran in. */
  classname: string;
  /** pass; fail = the test ran and failed; error = it could not run (or an engine problem). */
  status: 'pass' | 'fail' | 'error' | 'skipped';
  durationMs: number;
  command?: readonly string[] | undefined;
  exitCode?: number | undefined;
  /** One line saying why it failed (the JUnit `message` attribute). */
  message?: string | undefined;
  stdout?: string | undefined;
  stderr?: string | undefined;
}

export interface TestSuiteResult {
  name: string;
  /** ISO time the suite started. */
  timestamp: string;
  durationMs: number;
  cases: readonly TestCaseResult[];
  /** Extra facts for the JSON report (image id, test image, results collected, …). */
  properties?: Readonly<Record<string, string>> | undefined;
}

export interface Totals {
  tests: number;
  passed: number;
  failures: number;
  errors: number;
  skipped: number;
}

export function totals(suites: readonly TestSuiteResult[]): Totals {
  const cases = suites.flatMap((s) => s.cases);
  const count = (st: TestCaseResult['status']) => cases.filter((c) => c.status === st).length;
  return { tests: cases.length, passed: count('pass'), failures: count('fail'), errors: count('error'), skipped: count('skipped') };
}

/**
 * Text safe inside XML 1.0 elements and attributes: the five special characters as entities, and
 * characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF)
 * replaced by U+FFFD, so a test's binary output never makes the report unreadable.
 */
export function escapeXml(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else out += '\uFFFD';
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\uFFFD';
      continue;
    }
    switch (c) {
      case 0x26:
        out += '&amp;';
        continue;
      case 0x3c:
        out += '&lt;';
        continue;
      case 0x3e:
        out += '&gt;';
        continue;
      case 0x22:
        out += '&quot;';
        continue;
      case 0x27:
        out += '&apos;';
        continue;
      case 0x09:
        out += text[i];
        continue;
      // Newlines kept in element text; in attributes they are written as references (see attr).
      case 0x0a:
      case 0x0d:
        out += text[i];
        continue;
    }
    if (c < 0x20 || c === 0xfffe || c === 0xffff) out += '\uFFFD';
    else out += text[i];
  }
  return out;
}

/** Attribute values: escaped, and newlines/tabs as character references (attribute normalisation would turn them into spaces). */
const attr = (text: string) => escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);
const firstLine = (s: string, max = 500) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
};

export function junitXml(suites: readonly TestSuiteResult[], name = 'kiboko test'): string {
  const t = totals(suites);
  const time = suites.reduce((a, s) => a + s.durationMs, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(name)}" tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}" time="${seconds(time)}">`,
  ];
  for (const [i, s] of suites.entries()) {
    const st = totals([s]);
    lines.push(
      `  <testsuite name="${attr(s.name)}" id="${i}" tests="${st.tests}" failures="${st.failures}" errors="${st.errors}" skipped="${st.skipped}" time="${seconds(s.durationMs)}" timestamp="${attr(s.timestamp)}">`,
    );
    const props = Object.entries(s.properties ?? {});
    if (props.length) {
      lines.push('    <properties>');
      for (const [k, v] of props) lines.push(`      <property name="${attr(k)}" value="${attr(v)}"/>`);
      lines.push('    </properties>');
    }
    for (const c of s.cases) {
      lines.push(`    <testcase name="${attr(c.name)}" classname="${attr(c.classname)}" time="${seconds(c.durationMs)}">`);
      const message = c.message ?? (c.exitCode !== undefined ? `exited with ${c.exitCode}` : c.status);
      const body = [c.command ? `command: ${JSON.stringify(c.command)}` : '', c.exitCode !== undefined ? `exit code: ${c.exitCode}` : '', c.stderr ? `stderr:\n${c.stderr}` : ''].filter(Boolean).join('\n');
      if (c.status === 'fail') lines.push(`      <failure message="${attr(firstLine(message))}" type="${c.exitCode !== undefined ? 'exit-code' : 'failure'}">${escapeXml(body)}</failure>`);
      if (c.status === 'error') lines.push(`      <error message="${attr(firstLine(message))}" type="error">${escapeXml(body)}</error>`);
      if (c.status === 'skipped') lines.push(`      <skipped message="${attr(firstLine(message))}"/>`);
      if (c.stdout) lines.push(`      <system-out>${escapeXml(c.stdout)}</system-out>`);
      if (c.stderr) lines.push(`      <system-err>${escapeXml(c.stderr)}</system-err>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** The JSON report: totals, then every suite and case as written to JUnit. */
export function jsonReport(suites: readonly TestSuiteResult[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = totals(suites);
  return {
    ...extra,
    pass: t.failures === 0 && t.errors === 0,
    ...t,
    durationMs: suites.reduce((a, s) => a + s.durationMs, 0),
    suites,
  };
}

/**
 * Counts in a JUnit file a test container wrote: the root `<testsuites>` totals when present,
 * else the sum over `<testsuite>` elements, else one per `<testcase>` and `<failure>`/`<error>`.
 * Lenient (a regex reader, no XML library): it only needs to say whether anything failed.
 */
export function readJunitCounts(xml: string): Totals | undefined {
  const num = (tag: string, key: string) => {
    const m = new RegExp(`\\s${key}\\s*=\\s*["'](\\d+)["']`).exec(tag);
    return m ? Number(m[1]) : 0;
  };
  const build = (tags: string[]) => {
    const tests = tags.reduce((a, t) => a + num(t, 'tests'), 0);
    const failures = tags.reduce((a, t) => a + num(t, 'failures'), 0);
    const errors = tags.reduce((a, t) => a + num(t, 'errors'), 0);
    const skipped = tags.reduce((a, t) => a + num(t, 'skipped') + num(t, 'disabled'), 0);
    return { tests, failures, errors, skipped, passed: Math.max(0, tests - failures - errors - skipped) };
  };
  const root = /<testsuites\b[^>]*>/.exec(xml)?.[0];
  if (root && /\stests\s*=/.test(root)) return build([root]);
  const suites = xml.match(/<testsuite\b[^>]*>/g);
  if (suites?.length) return build(suites);
  const cases = xml.match(/<testcase\b/g)?.length ?? 0;
  if (!cases) return root ? { tests: 0, passed: 0, failures: 0, errors: 0, skipped: 0 } : undefined;
  const failures = xml.match(/<failure\b/g)?.length ?? 0;
  const errors = xml.match(/<error\b/g)?.length ?? 0;
  const skipped = xml.match(/<skipped\b/g)?.length ?? 0;
  return { tests: cases, failures, errors, skipped, passed: Math.max(0, cases - failures - errors - skipped) };
}

/**
 * A JSON results file: container-structure-test's `{Pass, Fail, Total}`, kiboko's own report
 * (`{tests, failures, errors}`), or a `{pass: boolean}` / `{passed, failed}` summary.
 */
export function readJsonCounts(text: string): Totals | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const n = (...keys: string[]) => {
    for (const k of keys) if (typeof o[k] === 'number' && Number.isFinite(o[k])) return o[k] as number;
    return undefined;
  };
  const failures = n('failures', 'Fail', 'failed', 'fail');
  const errors = n('errors', 'Errors') ?? 0;
  const tests = n('tests', 'Total', 'total');
  const passed = n('passed', 'Pass');
  if (failures !== undefined || tests !== undefined || passed !== undefined) {
    const f = failures ?? (typeof o.pass === 'boolean' && !o.pass ? 1 : 0);
    const p = passed ?? Math.max(0, (tests ?? 0) - f - errors);
    return { tests: tests ?? p + f + errors, passed: p, failures: f, errors, skipped: n('skipped') ?? 0 };
  }
  if (typeof o.pass === 'boolean') return { tests: 1, passed: o.pass ? 1 : 0, failures: o.pass ? 0 : 1, errors: 0, skipped: 0 };
  return undefined;
}
