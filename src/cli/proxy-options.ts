import { ENGINE_OPTIONS, inherited, value, type OptionsOf } from './command-options.js';

/** `kiboko proxy serve`: toxiproxy's HTTP API. Its --host is the API's, not the engine's. */
export const proxyServeOptions = () => ({
  host: value('--host <host>', 'address to listen on (default localhost; the API has no authentication, like toxiproxy: keep it on loopback)', { local: true }),
  port: value('--port <port>', 'API port (default 8474, toxiproxy’s)'),
  config: value('--config <file>', 'JSON file of proxies to create at start (toxiproxy -config / POST /populate format)'),
  // Where the transparent proxies' journal is: the program's --state-dir.
  stateDir: inherited(ENGINE_OPTIONS.stateDir),
});
export type ProxyServeOptions = OptionsOf<ReturnType<typeof proxyServeOptions>>;
