export { FaultProxy, ProxyCollection, splitHostPort, type ProxyConfig, type ProxyJson, type ProxyOptions, type HostPort } from './proxy.js';
export { parseToxic, parseToxicSpec, updateToxic, ProxyApiError, TOXIC_TYPES, STREAMS, type Toxic, type ToxicType, type Stream, type ToxicAttributesByType } from './toxics.js';
export { validateHttpFault, compilePattern, type HttpFault, type HttpMatch, type HttpAction, type HttpFaultStats } from './http.js';
export { toxiproxyHandler, startToxiproxyServer, isToxiproxyPath, TOXIPROXY_API_VERSION, type ToxiproxyApiOptions, type RunningToxiproxyServer } from './api.js';
export { startAgent, originalDestination, AGENT_CONTROL_SOCKET, type AgentConfig, type AgentReady, type RunningAgent } from './agent.js';
