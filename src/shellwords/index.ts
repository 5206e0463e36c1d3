/** Shell-like words: split a command line as `sh` would (no expansion), quote-aware splitting in two simpler dialects, `${VAR}` interpolation, dotenv files. */
export { splitShellWords, interpolate, parseDotenv, type Lookup } from './shellwords.js';
export { splitQuotedWords } from './quoted-words.js';
