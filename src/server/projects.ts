import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod/mini';
import { invalidArgument } from '../common/errors.js';
import { parseTagPolicy, type EngineMode, type TagPolicy } from '../deploy/index.js';
import { describeIssue } from './errors.js';
import { assertPrivate } from './auth.js';

/** A project the daemon deploys: its configuration files (or folder), engine, tag-policy overrides. */
export interface ProjectDef {
  name: string;
  /** Compose files, or one folder (a compose file or *.service unit files), as `kiboko deploy -f` takes them. */
  paths: string[];
  engine: EngineMode;
  /** Per-service tag policies that override the configuration's own (x-kiboko tag-policy). */
  tagPolicies: Record<string, TagPolicy>;
}

export interface DeployConfig {
  projects: ProjectDef[];
  webhook: { secret?: string | undefined };
}

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const PROJECT_RULE = 'lowercase letters, digits, - and _, starting with a letter or digit';

function checkPath(p: string, what: string): string {
  if (!existsSync(p)) throw invalidArgument(`${what}: ${p} does not exist`, 'give a compose file or a folder with one (or with *.service unit files)');
  return p;
}

/** `--project NAME=PATH` (PATH a compose file or a folder, relative to the working directory). */
export function parseProjectFlag(value: string, cwd = process.cwd()): ProjectDef {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const path = eq > 0 ? value.slice(eq + 1) : '';
  if (!PROJECT_NAME.test(name) || !path) throw invalidArgument(`invalid --project '${value}': expected NAME=PATH with NAME ${PROJECT_RULE}`, 'e.g. --project shop=/srv/shop/compose.yaml');
  return { name, paths: [checkPath(resolve(cwd, path), `--project ${name}`)], engine: 'auto', tagPolicies: {} };
}

const projectSchema = z.strictObject({
  file: z.optional(z.union([z.string(), z.array(z.string()).check(z.minLength(1))])),
  files: z.optional(z.array(z.string()).check(z.minLength(1))),
  engine: z.optional(z.enum(['auto', 'docker', 'swarm'])),
  services: z.optional(z.record(z.string(), z.strictObject({ tag_policy: z.optional(z.string()), 'tag-policy': z.optional(z.string()) }))),
});
const configSchema = z.strictObject({
  webhook: z.optional(z.strictObject({ secret: z.optional(z.string()), secret_file: z.optional(z.string()) })),
  projects: z.optional(z.record(z.string(), projectSchema)),
});

/**
 * `--deploy-config FILE`:
 *
 * ```yaml
 * webhook: { secret_file: /etc/kiboko/hook.secret }   # or secret: "…"
 * projects:
 *   shop:
 *     file: /srv/shop/compose.yaml                     # or files: [a.yaml, b.yaml], or a folder
 *     engine: docker                                   # auto (default) | docker | swarm
 *     services:
 *       web: { tag_policy: semver }                    # pinned|any, semver, semver-major-locked, follow:<branch>, regex:<re2>
 * ```
 * Relative paths are relative to the file.
 */
export function loadDeployConfig(file: string): DeployConfig {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) throw invalidArgument(`${file}: not valid YAML: ${doc.errors[0]!.message}`, 'fix the deploy config');
  const r = configSchema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    throw invalidArgument(`${file}: ${describeIssue(r.error.issues[0]!, doc.toJS())}`, 'see the Daemon API section of the README for the deploy config');
  }
  const base = dirname(resolve(file));
  const projects: ProjectDef[] = [];
  for (const [name, p] of Object.entries(r.data.projects ?? {})) {
    if (!PROJECT_NAME.test(name)) throw invalidArgument(`${file}: projects.${name}: invalid project name: ${PROJECT_RULE}`, 'rename the project');
    const listed = [...(p.files ?? []), ...(p.file === undefined ? [] : Array.isArray(p.file) ? p.file : [p.file])];
    if (listed.length === 0) throw invalidArgument(`${file}: projects.${name}: expected file: or files:`, 'name the compose file (or folder) of the project');
    const paths = listed.map((f) => checkPath(resolve(base, f), `${file}: projects.${name}`));
    if (paths.length > 1 && paths.some((x) => statSync(x).isDirectory())) throw invalidArgument(`${file}: projects.${name}: a folder must be the only path`, 'list compose files, or one folder');
    const tagPolicies: Record<string, TagPolicy> = {};
    for (const [svc, s] of Object.entries(p.services ?? {})) {
      const text = s.tag_policy ?? s['tag-policy'];
      if (text !== undefined) tagPolicies[svc] = parseTagPolicy(text);
    }
    projects.push({ name, paths, engine: p.engine ?? 'auto', tagPolicies });
  }
  let secret = r.data.webhook?.secret;
  if (r.data.webhook?.secret_file) secret = readSecretFile(resolve(base, r.data.webhook.secret_file));
  return { projects, webhook: { secret } };
}

/** The webhook's shared secret (for X-Hub-Signature-256): the file's content, trimmed. */
export function readSecretFile(file: string): string {
  if (!existsSync(file)) throw invalidArgument(`webhook secret file ${file} does not exist`, 'create it with e.g. `(umask 077; openssl rand -hex 32 > FILE)`');
  assertPrivate(file, 'file');
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 8) throw invalidArgument(`webhook secret file ${file} holds no usable secret (at least 8 characters)`, 'e.g. `openssl rand -hex 32 > FILE`');
  return secret;
}
