import { value, type OptionsOf } from './command-options.js';

/** `kiboko proxy serve`: toxiproxy's HTTP API. Its --host is the API's, not the engine's. */
export const proxyServeOptions = () => ({
  host: value('--host <host>', 'address to listen on (default localhost; the API has no authentication, like toxiproxy: keep it on loopback)', { local: true }),
  port: value('--port <port>', 'API port (default 8474, toxiproxy’s)'),
  config: value('--config <file>', 'JSON file of proxies to create at start (toxiproxy -config / POST /populate format)'),
  // Where the transparent proxies' journal is (given after `serve`, or before `proxy` as the program's).
  stateDir: value('--state-dir <dir>', 'whose `kiboko chaos proxy` faults to list and change (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)'),
});
export type ProxyServeOptions = OptionsOf<ReturnType<typeof proxyServeOptions>>;
