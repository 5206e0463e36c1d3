/**
 * Config templates, confd-compatible: Go's text/template (Go 1.23 semantics) with confd's
 * functions, template resources (`conf.d/*.toml`), backends (env, file, etcd v3), a pure plan
 * (render + diff) and a transactional apply (stage → check → atomic replace → reload → restore
 * on failure), on the host or inside containers.
 *
 * @example
 * ```ts
 * import { confdFuncs, parseTemplate } from 'kiboko/template';
 *
 * const kv = { get: (k: string) => (k === '/app/port' ? '8080' : undefined), list: () => ['/app/port'] };
 * const out = parseTemplate('app.tmpl', 'port={{getv "/app/port"}}', confdFuncs(kv)).execute(null);
 * console.log(out); // port=8080
 * ```
 *
 * @module kiboko/template
 */
export {
  parseTemplate,
  Template,
  TemplateError,
  confdFuncs,
  CONFD_FUNC_NAMES,
  MemKv,
  KVPair,
  renderWithDnsPrefetch,
  loadResources,
  parseResource,
  loadConfdConfig,
  parseConfdConfig,
  planResource,
  applyPlan,
  applyResource,
  unifiedDiff,
  hostDestination,
  containerDestination,
  runTemplate,
  renderText,
  openBackend,
  parseBackendName,
  type FuncMap,
  type ParseOptions,
  type ConfdFuncOptions,
  type KvSource,
  type TemplateResource,
  type LoadResourcesOptions,
  type ConfdConfig,
  type ResourcePlan,
  type CurrentFile,
  type ApplyOptions,
  type ApplyOutcome,
  type ApplyResult,
  type Destination,
  type TemplateRunOptions,
  type TemplateRunSummary,
  type TemplateEvent,
  type Backend,
  type BackendName,
  type BackendOptions,
} from '../template/index.js';
