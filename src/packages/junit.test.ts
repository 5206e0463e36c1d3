import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXml, jsonReport, junitXml, readJsonCounts, readJunitCounts, type TestSuiteResult } from './junit.js';

const suite: TestSuiteResult = {
  name: 'app:1.0',
  timestamp: '2030-01-01T00:00:00.000Z',
  durationMs: 2500,
  properties: { testImage: 'app:1.0-test' },
  cases: [
    { name: 'unit', classname: 'app:1.0', status: 'pass', durationMs: 1000, command: ['sh', '-c', 'true'], exitCode: 0, stdout: 'ok\n' },
    { name: 'smoke <&>', classname: 'app:1.0', status: 'fail', durationMs: 1500, command: ['sh', '-c', 'exit 3'], exitCode: 3, message: 'exited with 3: "boom" & <bang>\nsecond line', stdout: 'x\u0000y\u001b[31mred\n' },
    { name: 'gone', classname: 'app:1.0', status: 'error', durationMs: 0, message: 'could not start' },
  ],
};

describe('junitXml', () => {
  const xml = junitXml([suite]);

  it('has totals, one testcase per test, and a failure naming what failed', () => {
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="kiboko test" tests="3" failures="1" errors="1" skipped="0" time="2.500">/);
    expect(xml).toContain('<testsuite name="app:1.0" id="0" tests="3" failures="1" errors="1" skipped="0" time="2.500" timestamp="2030-01-01T00:00:00.000Z">');
    expect(xml).toContain('<property name="testImage" value="app:1.0-test"/>');
    expect(xml).toContain('<testcase name="smoke &lt;&amp;&gt;" classname="app:1.0" time="1.500">');
    expect(xml).toContain('<failure message="exited with 3: &quot;boom&quot; &amp; &lt;bang&gt;" type="exit-code">');
    expect(xml).toContain('<error message="could not start" type="error">');
    expect(xml.match(/<testcase /g)).toHaveLength(3);
  });

  it('never carries characters XML 1.0 forbids', () => {
    expect(xml).toContain('<system-out>x\uFFFDy\uFFFD[31mred\n</system-out>');
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  });

  it('escaping: no raw markup survives, entities decode back to the text', () => {
    const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const e = escapeXml(s);
        expect(e).not.toMatch(/[<>"']/);
        expect(e).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
        // eslint-disable-next-line no-control-regex
        const clean = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\uFFFD');
        if (!/[\ud800-\udfff]/.test(s)) expect(decode(e)).toBe(clean);
        // No lone surrogates: the text survives a UTF-8 round trip unchanged.
        expect(Buffer.from(e, 'utf8').toString('utf8')).toBe(e);
      }),
    );
  }, 30_000); // 100 generated strings: well under a second alone, past vitest's 5 s default on a loaded machine

  it('the JSON twin has the same totals', () => {
    expect(jsonReport([suite], { image: 'app:1.0' })).toMatchObject({ image: 'app:1.0', pass: false, tests: 3, passed: 1, failures: 1, errors: 1, durationMs: 2500 });
  });
});

describe('reading results test containers wrote', () => {
  it('JUnit: root totals, else summed suites, else counted cases', () => {
    expect(readJunitCounts(junitXml([suite]))).toEqual({ tests: 3, passed: 1, failures: 1, errors: 1, skipped: 0 });
    const suites = `<testsuites><testsuite name="a" tests="2" failures="1"/><testsuite name="b" tests="3" errors="1" skipped="1"></testsuite></testsuites>`;
    expect(readJunitCounts(suites)).toEqual({ tests: 5, passed: 2, failures: 1, errors: 1, skipped: 1 });
    expect(readJunitCounts('<root><testcase name="x"/><testcase name="y"><failure/></testcase></root>')).toEqual({ tests: 2, passed: 1, failures: 1, errors: 0, skipped: 0 });
    expect(readJunitCounts('<html/>')).toBeUndefined();
  });

  it('JSON: container-structure-test, kiboko, and pass/fail summaries', () => {
    expect(readJsonCounts('{"Pass":3,"Fail":1,"Total":4}')).toMatchObject({ tests: 4, passed: 3, failures: 1 });
    expect(readJsonCounts(JSON.stringify(jsonReport([suite])))).toMatchObject({ tests: 3, failures: 1, errors: 1 });
    expect(readJsonCounts('{"pass":true}')).toMatchObject({ tests: 1, failures: 0 });
    expect(readJsonCounts('{"pass":false}')).toMatchObject({ failures: 1 });
    expect(readJsonCounts('[1,2]')).toBeUndefined();
    expect(readJsonCounts('{"hello":"world"}')).toBeUndefined();
    expect(readJsonCounts('not json')).toBeUndefined();
  });
});
