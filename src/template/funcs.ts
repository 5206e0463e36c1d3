/**
 * confd's template functions for kiboko's template resources. The implementation lives in
 * gotemplate/confd-funcs.ts (with Go text/template); this is the name the rest of src/template uses.
 */
export { confdFuncs, CONFD_FUNC_NAMES, type ConfdFuncOptions } from './gotemplate/index.js';
