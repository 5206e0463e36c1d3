/**
 * Config templates, confd-compatible: template resources (conf.d/*.toml), backends (env, file,
 * etcd v3), a pure plan (render + diff) and a transactional apply (stage → check → atomic
 * replace → reload → restore on failure) on the host or inside containers.
 */
export { loadResources, parseResource, type TemplateResource, type LoadResourcesOptions } from './resource.js';
export { loadConfdConfig, parseConfdConfig, type ConfdConfig } from './config.js';
export { planResource, unifiedDiff, type CurrentFile, type ResourcePlan } from './plan.js';
export { applyPlan, stagedFilesInFlight, type ApplyOptions, type ApplyOutcome, type ApplyResult, type Destination } from './apply.js';
export { hostDestination } from './host.js';
export { containerDestination } from './container.js';
export { parseWait } from './debounce.js';
export { runTemplate, type TemplateEvent, type TemplateRunOptions, type TemplateRunSummary } from './run.js';
export { renderText, renderWithGoTemplate } from './render.js';
export * as backends from './backends/index.js';
export { openBackend, parseBackendName, type Backend, type BackendName, type BackendOptions } from './backends/index.js';
export * from './gotemplate/index.js';

import type { TemplateResource } from './resource.js';
import { planResource, type ResourcePlan } from './plan.js';
import { applyPlan, type ApplyOptions, type ApplyResult } from './apply.js';
import { hostDestination } from './host.js';

/** Plans and applies one rendered resource on the host (the library's one-call form). */
export async function applyResource(resource: TemplateResource, rendered: string, options: ApplyOptions = {}): Promise<ApplyResult & { plan: ResourcePlan }> {
  const to = hostDestination();
  const plan = planResource(resource, rendered, await to.read(resource.dest));
  return { ...(await applyPlan(plan, to, options)), plan };
}
