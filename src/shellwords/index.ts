/** Shell-like words: split a command line as `sh` would (no expansion), `${VAR}` interpolation, dotenv files. */
export { splitShellWords, interpolate, parseDotenv, type Lookup, type DotenvProblem, type DotenvResult } from './shellwords.js';
