/**
 * Go's text/template in TypeScript, faithful to Go 1.23 (lexer, parser, executor, builtins and
 * fmt printing), plus confd's template functions (confd-funcs.ts). See README in
 * src/template/fixtures/confd for how outputs were verified against real Go.
 */
export { parseTemplate, Template, BUILTIN_NAMES, type FuncMap, type ParseOptions } from './template.js';
export { TemplateError, GoError, type TemplatePhase } from './errors.js';
export { DEFAULT_LIMITS as DEFAULT_EXEC_LIMITS, type ExecLimits, type MissingKey } from './exec.js';
export { sprint, sprintf, sprintln } from './fmt.js';
export { GoNumber, GoComplex, GO_TYPE, goFunc, goMethod, withGoType, float64 } from './values.js';
export { T as GoTypes, type GoType, type FuncSignature, type GoMethod } from './types.js';
export { confdFuncs, CONFD_FUNC_NAMES, Srv, type ConfdFuncOptions } from './confd-funcs.js';
export { KVPair, MemKv, type KvSource } from './memkv.js';
export { pathClean } from './gopath.js';
export { GoTime, UTC as UTC_ZONE, type GoZone } from './gotime.js';
export {
  syncDnsResolver,
  staticDnsResolver,
  nodeAsyncDns,
  renderWithDnsPrefetch,
  type DnsResolver,
  type AsyncDns,
  type SrvRecord,
} from './dns.js';
