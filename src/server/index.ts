export { startServer, bindServer, type ServeOptions, type RunningServer } from './http.js';
export { loadOrCreateToken, assertPrivate, kibokoSignatureHeaders } from './auth.js';
export { parseProjectFlag, loadDeployConfig, readSecretFile, type ProjectDef } from './projects.js';
export { createDaemonServices, type DaemonServices } from './daemon.js';
export { WatchService } from './watch.js';
