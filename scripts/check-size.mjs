#!/usr/bin/env node
// Size limits of docs/internals.md: no file in src/ over 500 lines, no function over 100 lines
// (tests and the ports of Go's fmt/text/template internals excepted). Prints each breach and
// exits 1 when there is one; `--report` prints them all and exits 0.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

// --root DIR checks DIR/src instead of this repository's (the check's own test uses it).
const rootAt = process.argv.indexOf('--root');
const ROOT = rootAt > 0 ? process.argv[rootAt + 1] : join(import.meta.dirname, '..');
const MAX_FILE = 500;
const MAX_FUNCTION = 100;
/** Line-for-line ports of Go's standard library (fmt, text/template, strconv, encoding/json's scanner, time's
 * layouts): kept in Go's shape so they can be checked against it line by line. */
const PORTS = /^src\/template\/gotemplate\/(fmt|exec|parse|strconv|lex|gojson|gotime)\.ts$/;

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) yield p;
  }
}

const breaches = [];
for (const file of files(join(ROOT, 'src'))) {
  const rel = relative(ROOT, file);
  if (PORTS.test(rel)) continue;
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE) breaches.push(`${rel}: ${lines} lines (at most ${MAX_FILE})`);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.end).line;
      const n = end - start + 1;
      if (n > MAX_FUNCTION) breaches.push(`${rel}:${start + 1}: ${name(node)} is ${n} lines (at most ${MAX_FUNCTION})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

function name(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return p.name.text;
  return 'a function';
}

for (const b of breaches) console.log(b);
if (process.argv.includes('--report')) console.log(`${breaches.length} over the limits`);
else if (breaches.length) {
  console.error(`${breaches.length} over the size limits (docs/internals.md): split them`);
  process.exit(1);
}
