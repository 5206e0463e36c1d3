// A Node module hook for the start-up bench: appends "URL BYTES" for every module Node loads to
// the file named by KIBOKO_BENCH_MODULES. Registered with
// `node --import 'data:text/javascript,import{register}from"node:module";register("<this file's URL>")'`.
import { appendFileSync } from 'node:fs';

const out = process.env.KIBOKO_BENCH_MODULES;

export async function load(url, context, next) {
  const r = await next(url, context);
  if (out) appendFileSync(out, `${url} ${r.source ? r.source.length : 0}\n`);
  return r;
}
