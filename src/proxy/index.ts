export { ProxyCollection, type ProxyConfig, type ProxyJson } from './proxy.js';
export { parseToxic, parseToxicSpec, ProxyApiError, type Toxic } from './toxics.js';
export { validateHttpFault, type HttpFault } from './http.js';
export { toxiproxyHandler, startToxiproxyServer, type ToxiproxyApiOptions } from './api.js';
export { AGENT_CONTROL_SOCKET, type AgentConfig, type AgentReady } from './agent.js';
