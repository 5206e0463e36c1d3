import { asKibokoError, invalidArgument, KibokoError } from '../common/errors.js';
import { checkTagPolicy, formatTagPolicy, parseImageRef, type SystemConfig } from '../deploy/index.js';
import type { TagChange } from './deploy-jobs.js';
import type { ProjectDef } from './projects.js';
import { sameRepository, type PushNotice } from './webhook.js';

/** What deciding a hook needs from the deploy service: its projects and the tags already accepted. */
export interface AdmissionContext {
  readonly defs: ReadonlyMap<string, ProjectDef>;
  /** The project by name; TARGET_NOT_FOUND for an unknown one. */
  def(name: string): ProjectDef;
  load(def: ProjectDef): Promise<SystemConfig>;
  /** Tags accepted but not yet deployed, per `project/service`. */
  readonly pending: ReadonlyMap<string, string>;
}

/** The decision on a hook: the tag changes per project, and the notices no service uses. */
export interface HookAdmission {
  jobs: { project: string; changes: TagChange[] }[];
  unmatched: string[];
}

/**
 * Decides a hook without changing anything: maps the notices to services and checks each tag
 * against the service's policy (against the tag an earlier queued hook will set, if any). Throws
 * when any notice is refused, so one refusal refuses the whole hook.
 */
export async function admitHook(ctx: AdmissionContext, notices: readonly PushNotice[]): Promise<HookAdmission> {
  const configs = new Map<string, SystemConfig | Error>();
  const config = async (def: ProjectDef) => {
    if (!configs.has(def.name)) configs.set(def.name, await ctx.load(def).catch((err: unknown) => asKibokoError(err)));
    return configs.get(def.name)!;
  };
  const wanted = new Map<string, Map<string, string>>(); // project → service → tag
  const want = (project: string, service: string, tag: string) => {
    const m = wanted.get(project) ?? new Map<string, string>();
    if (m.has(service) && m.get(service) !== tag) throw invalidArgument(`the notifications ask for two tags of ${project}/${service} (${m.get(service)}, ${tag})`, 'send one tag per service');
    m.set(service, tag);
    wanted.set(project, m);
  };
  const unmatched: string[] = [];
  for (const n of notices) {
    if (n.source === 'kiboko') {
      want(await projectOfService(ctx, n, config), n.service, n.tag);
      continue;
    }
    let hit = false;
    for (const def of ctx.defs.values()) {
      const c = await config(def);
      if (c instanceof Error) continue;
      for (const s of c.services) {
        if (sameRepository(n, parseImageRef(s.image).repo)) {
          want(def.name, s.name, n.tag);
          hit = true;
        }
      }
    }
    if (!hit) unmatched.push(`${n.repository}:${n.tag}`);
  }
  // Every tag is checked before anything is queued: one refusal refuses the whole hook.
  const jobs: HookAdmission['jobs'] = [];
  for (const [project, services] of wanted) jobs.push({ project, changes: checkTags(ctx, project, (await config(ctx.def(project))) as SystemConfig, services) });
  return { jobs, unmatched };
}

/** kiboko's own notice names a service (and maybe its project): the one project that has it. */
async function projectOfService(ctx: AdmissionContext, n: Extract<PushNotice, { source: 'kiboko' }>, config: (def: ProjectDef) => Promise<SystemConfig | Error>): Promise<string> {
  const defs = n.project ? [ctx.def(n.project)] : [...ctx.defs.values()];
  const hits: string[] = [];
  for (const def of defs) {
    const c = await config(def);
    if (c instanceof Error) {
      if (n.project) throw c;
      continue;
    }
    if (c.services.some((s) => s.name === n.service)) hits.push(def.name);
  }
  if (hits.length === 0) throw new KibokoError('TARGET_NOT_FOUND', `no service ${n.service} in ${n.project ? `project ${n.project}` : 'any configured project'}`, { hint: 'check the service name (services.<name> in the compose file)' });
  if (hits.length > 1) throw invalidArgument(`service ${n.service} is in several projects (${hits.join(', ')})`, 'name one with "project"');
  return hits[0]!;
}

/** The project's tag changes, each checked against its service's tag policy. */
function checkTags(ctx: AdmissionContext, project: string, c: SystemConfig, services: ReadonlyMap<string, string>): TagChange[] {
  if (!c.sources.some((f) => /\.ya?ml$/i.test(f))) {
    throw invalidArgument(`project ${project} is configured by unit files; a hook can only set tags in a compose file`, 'deploy unit-file projects with POST /v1/deploys after editing the units');
  }
  const changes: TagChange[] = [];
  for (const [service, tag] of services) {
    const spec = c.services.find((s) => s.name === service)!;
    const current = ctx.pending.get(`${project}/${service}`) ?? parseImageRef(spec.image).tag;
    const verdict = checkTagPolicy(spec.tagPolicy, current, tag);
    if (!verdict.ok) {
      throw new KibokoError('CONFLICT', `${project}/${service}: ${verdict.reason} (tag policy ${formatTagPolicy(spec.tagPolicy)})`, {
        hint: 'nothing was deployed; push a tag the policy accepts, or change the policy (x-kiboko tag-policy)',
        details: { project, service, tag, current, policy: formatTagPolicy(spec.tagPolicy) },
      });
    }
    changes.push({ service, tag });
  }
  return changes;
}
