export { startServer, type ServeOptions, type RunningServer } from './http.js';
export { loadOrCreateToken, tokenMatches, bearerOf, FailureThrottle } from './auth.js';
