export { runChecks, checkError, type Check, type CheckStatus } from './checks.js';
