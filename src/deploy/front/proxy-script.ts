/**
 * The program the front container runs (plain Node.js, no dependencies). It listens on the
 * service's published ports and forwards each new connection to one of the current upstreams
 * (round-robin; an upstream that refuses is skipped). kiboko replaces the upstream set with
 * `front.cjs set '<json>'` (atomic file swap + SIGHUP to PID 1); connections already open keep
 * their upstream until they close, which is how an old replica drains. `front.cjs status` prints
 * the live upstream set and open connections per upstream.
 */
export const FRONT_SCRIPT = String.raw`'use strict';
const net = require('net');
const fs = require('fs');
const DIR = '/run/kiboko';
const CONFIG = DIR + '/front.json';
const STATUS = DIR + '/status.json';
const mode = process.argv[2] || 'serve';

function readJson(path, fallback) { try { return JSON.parse(fs.readFileSync(path, 'utf8')); } catch { return fallback; } }
function writeJson(path, value) { const tmp = path + '.' + process.pid; fs.writeFileSync(tmp, JSON.stringify(value)); fs.renameSync(tmp, path); }

if (mode === 'set') {
  const upstreams = JSON.parse(process.argv[3] || '[]');
  const config = readJson(CONFIG, { listeners: [], upstreams: [], generation: 0 });
  config.upstreams = upstreams;
  config.generation = (config.generation || 0) + 1;
  writeJson(CONFIG, config);
  process.kill(1, 'SIGHUP');
  const deadline = Date.now() + 5000;
  const wait = () => {
    const s = readJson(STATUS, {});
    if (s.generation >= config.generation) { process.stdout.write(JSON.stringify(s)); process.exit(0); }
    if (Date.now() > deadline) { process.stderr.write('front did not apply generation ' + config.generation + '\n'); process.exit(1); }
    setTimeout(wait, 20);
  };
  wait();
} else if (mode === 'status') {
  process.stdout.write(JSON.stringify(readJson(STATUS, {})));
} else {
  fs.mkdirSync(DIR, { recursive: true });
  if (!fs.existsSync(CONFIG)) writeJson(CONFIG, Object.assign({ upstreams: [], generation: 0 }, JSON.parse(process.env.KIBOKO_FRONT || '{}')));
  let config = readJson(CONFIG, { listeners: [], upstreams: [], generation: 0 });
  const active = new Map();
  let next = 0;
  let dirty = true;
  const status = () => {
    const counts = {};
    for (const u of config.upstreams) counts[u] = 0;
    for (const [u, n] of active) counts[u] = n;
    writeJson(STATUS, { generation: config.generation, upstreams: config.upstreams, active: counts });
    dirty = false;
  };
  const track = (u, d) => { active.set(u, (active.get(u) || 0) + d); if (active.get(u) <= 0) active.delete(u); dirty = true; };
  process.on('SIGHUP', () => { config = readJson(CONFIG, config); status(); });
  setInterval(() => { if (dirty) status(); }, 100).unref();
  const servers = config.listeners.map((l) => {
    const server = net.createServer((client) => {
      client.pause();
      const candidates = config.upstreams.slice();
      if (candidates.length === 0) { client.destroy(); return; }
      const start = next++;
      const attempt = (i) => {
        if (i >= candidates.length) { client.destroy(); return; }
        const host = candidates[(start + i) % candidates.length];
        const up = net.connect({ host, port: l.targetPort });
        let connected = false;
        up.once('connect', () => {
          connected = true;
          track(host, 1);
          client.pipe(up); up.pipe(client); client.resume();
          const done = () => { if (connected) { connected = false; track(host, -1); } };
          up.on('close', () => { done(); client.destroy(); });
          client.on('close', () => { done(); up.destroy(); });
        });
        up.on('error', () => { if (!connected) attempt(i + 1); });
        client.on('error', () => up.destroy());
      };
      attempt(0);
    });
    server.listen(l.port, '0.0.0.0');
    return server;
  });
  status();
  process.on('SIGTERM', () => { for (const s of servers) s.close(); setTimeout(() => process.exit(0), 10000).unref(); if (active.size === 0) process.exit(0); });
}
`;
