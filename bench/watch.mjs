// Registry checks for 100 watched services: kiboko watch's pass (each repository's tags listed
// once, each tag's digest asked once, one token per repository scope, keep-alive connections)
// beside the same work done naively (a fresh client per service: 401, token, tags).
// The registry is a loopback server speaking the Registry API v2 with the Bearer token flow
// (realm/service/scope), adding WATCH_LATENCY_MS (default 5) to every answer; both runs use the
// same server and the same 100 services (WATCH_SERVICES) over WATCH_REPOS (default 10) repositories.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, fmtMs, fmtRatio, machine, positiveInt, printTable, ROOT, writeResult } from './common.mjs';

await ensureBuilt();
const { FakeEngine, registry, watch } = await import(join(ROOT, 'dist', 'lib', 'index.js'));

const SERVICES = positiveInt('WATCH_SERVICES', 100);
const REPOS = positiveInt('WATCH_REPOS', 10);
const LATENCY = Number(process.env.WATCH_LATENCY_MS ?? 5);

let requests = 0;
const counts = { ping: 0, token: 0, tags: 0, manifest: 0, unauthorized: 0 };
const digest = (s) => `sha256:${Buffer.from(s).toString('hex').padEnd(64, '0').slice(0, 64)}`;
const server = createServer((req, res) => {
  requests++;
  setTimeout(() => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/token') {
      counts.token++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token: `t:${url.searchParams.get('scope')}`, expires_in: 300 }));
    }
    const m = /^\/v2\/(.+?)\/(tags\/list|manifests\/(.+))$/.exec(url.pathname);
    const scope = m ? `repository:${m[1]}:pull` : '';
    if (req.headers.authorization !== `Bearer t:${scope}`) {
      if (url.pathname === '/v2/') counts.ping++;
      counts.unauthorized++;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="bench",scope="${scope}"`, 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (m[2] === 'tags/list') {
      counts.tags++;
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ name: m[1], tags: Array.from({ length: 120 }, (_, i) => `${i + 1}-develop`) }));
    }
    counts.manifest++;
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'docker-content-digest': digest(`${m[1]}:${m[3]}`) });
    res.end();
  }, LATENCY);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const host = `127.0.0.1:${server.address().port}`;

// 100 deploy services following develop, running 58-develop; the registry has up to 120-develop.
const dir = mkdtempSync(join(tmpdir(), 'kiboko-bench-watch-'));
const project = 'benchwatch';
const file = join(dir, 'compose.yaml');
const services = Array.from({ length: SERVICES }, (_, i) => ({ name: `svc${i}`, image: `${host}/team/app${i % REPOS}:58-develop` }));
writeFileSync(file, `name: ${project}\nservices:\n${services.map((s) => `  ${s.name}:\n    image: ${s.image}\n    x-kiboko: {tag-policy: "follow:develop"}\n`).join('')}`);
const engine = new FakeEngine();
for (const s of services) engine.add({ name: `${project}-${s.name}-1`, image: s.image, status: 'running', labels: { 'kiboko.deploy.project': project, 'kiboko.deploy.service': s.name } });

const reset = () => {
  requests = 0;
  for (const k of Object.keys(counts)) counts[k] = 0;
};

// kiboko watch: one pass, monitor-only (the check is what is measured; no deploys).
reset();
const client = new registry.RegistryClient({ credentials: { configFile: '/nonexistent' } });
let t0 = performance.now();
const report = await watch.runWatchPass({ engine, registry: client, credentials: { configFile: '/nonexistent' } }, { projects: [{ files: [file] }], containers: false, monitorOnly: true });
const kibokoMs = performance.now() - t0;
client.close();
const kiboko = { ms: kibokoMs, requests, ...counts, newer: report.newer, checked: report.checked };
if (report.checked !== SERVICES || report.newer !== SERVICES) throw new Error(`pass checked ${report.checked}, found ${report.newer} newer; expected ${SERVICES}: ${JSON.stringify(report.items.find((i) => !i.newImage))}`);

// Naive: for each service a fresh client (no shared token, connection or tag list) lists the tags
// and picks the newest under the policy: the same finding, the way a per-service loop does it.
reset();
t0 = performance.now();
for (const s of services) {
  const c = new registry.RegistryClient({ credentials: { configFile: '/nonexistent' } });
  const tags = await c.listTags(s.image);
  if (!watch.newerTag({ kind: 'follow-branch', branch: 'develop' }, '58-develop', tags)) throw new Error(`naive run found nothing newer for ${s.name}`);
  c.close();
}
const naiveMs = performance.now() - t0;
const naive = { ms: naiveMs, requests, ...counts };

server.close();
rmSync(dir, { recursive: true, force: true });

printTable(
  [
    ['run', 'services', 'repos', 'wall ms', 'requests', 'tokens', '401s', 'tag lists', 'manifests'],
    ['kiboko watch pass', SERVICES, REPOS, fmtMs(kiboko.ms), kiboko.requests, kiboko.token, kiboko.unauthorized, kiboko.tags, kiboko.manifest],
    ['naive per service', SERVICES, REPOS, fmtMs(naive.ms), naive.requests, naive.token, naive.unauthorized, naive.tags, naive.manifest],
  ],
  [1, 2, 3, 4, 5, 6, 7, 8],
);
console.log(`kiboko: ${fmtRatio(naive.ms / kiboko.ms)} faster, ${fmtRatio(naive.requests / kiboko.requests)} fewer requests (registry latency ${LATENCY} ms per answer)`);
writeResult('watch', { machine: machine(), services: SERVICES, repos: REPOS, latencyMs: LATENCY, kiboko, naive });
