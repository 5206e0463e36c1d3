// The modules a command runs, for the start-up bench: the CLI is one bundle (dist/cli.cjs), so
// which of its modules a command uses is read from V8's coverage of one run (NODE_V8_COVERAGE):
// every function that ran is mapped through the bundle's source map to its source file, and a
// module counts when any of its code ran (its top level included). Returns the source modules of
// src/ and the npm packages, with the bytes of the bundle their running code spans.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { SourceMapConsumer } = require('source-map-js');
const WRAPPER = '(function (exports, require, module, __filename, __dirname) { ';

/** Runs `node ARGS` with coverage on; resolves with { src: [...], packages: [...], bundleKb }. */
export async function moduleGraph(args, env, bundle) {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-bench-cov-'));
  try {
    await new Promise((resolve, reject) =>
      execFile(process.execPath, args, { env: { ...env, NODE_V8_COVERAGE: dir, KIBOKO_NO_COMPILE_CACHE: '1' } }, (err) => (err ? reject(err) : resolve())),
    );
    const source = readFileSync(bundle, 'utf8');
    const lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
    const map = new SourceMapConsumer(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
    const modules = new Map(); // module → bytes of the bundle its running functions span
    for (const f of readdirSync(dir)) {
      const { result } = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      for (const script of result) {
        const url = script.url.startsWith('file:') ? fileURLToPath(script.url) : script.url;
        if (url !== bundle) continue;
        for (const fn of script.functions) {
          const range = fn.ranges[0];
          if (!range || range.count === 0) continue;
          const start = range.startOffset - WRAPPER.length;
          if (start < 0) continue; // the wrapper itself
          const line = upperBound(lineStarts, start) - 1;
          const pos = map.originalPositionFor({ line: line + 1, column: start - lineStarts[line] });
          if (!pos.source) continue;
          const key = moduleOf(pos.source);
          modules.set(key, Math.max(modules.get(key) ?? 0, range.endOffset - range.startOffset));
        }
      }
    }
    const src = [...modules.keys()].filter((k) => k.startsWith('src/')).sort();
    const packages = [...modules.keys()].filter((k) => !k.startsWith('src/')).sort();
    return { src, packages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function moduleOf(source) {
  const nm = source.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = source.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const s = source.indexOf('src/');
  return s >= 0 ? source.slice(s) : source;
}

function upperBound(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
