import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KibokoError } from '../common/errors.js';
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from './reference.js';

/** Credentials for one registry, and where they came from (named in errors; never the secret). */
export interface RegistryCredentials {
  username: string;
  password: string;
  /** An identity (refresh) token instead of a password (`docker login` with OAuth, helpers answering `<token>`). */
  identityToken?: string | undefined;
  /** e.g. `~/.docker/config.json auths["127.0.0.1:5000"]`, `docker-credential-pass`, `--registry-user`. */
  source: string;
}

export interface CredentialOptions {
  /** Docker config file (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json). */
  configFile?: string | undefined;
  /** Given credentials (flags, REPO_USER/REPO_PASS), tried before the Docker config. */
  explicit?: { username: string; password: string; registry?: string | undefined } | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Runs a credential helper (tests inject one); default execFile of `docker-credential-<name> get`. */
  runHelper?: ((helper: string, serverUrl: string) => Promise<string>) | undefined;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  const home = join(env.HOME || homedir(), '.docker', 'config.json');
  // Watchtower's compose files mount the Docker config at /config.json: honoured when there is no other.
  return !existsSync(home) && existsSync('/config.json') ? '/config.json' : home;
}

function readConfig(file: string): DockerConfig | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as DockerConfig) : undefined;
  } catch (cause) {
    throw new KibokoError('INVALID_ARGUMENT', `${file} is not valid JSON`, { cause, hint: 'fix or remove the Docker config file (docker login rewrites it)' });
  }
}

/** The keys a registry's entry may have in `auths` (Hub's legacy URL; with and without scheme). */
function authKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return [DOCKER_HUB_AUTH_KEY, 'index.docker.io', 'docker.io', 'https://index.docker.io/v1', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `docker-credential-<helper> get`, the server URL on stdin, as the Docker CLI calls it (argv only, no shell). */
export function runCredentialHelper(helper: string, serverUrl: string): Promise<string> {
  if (!HELPER_NAME.test(helper)) return Promise.reject(new KibokoError('INVALID_ARGUMENT', `invalid credential helper name '${helper.slice(0, 64)}' in the Docker config`, { hint: 'credHelpers/credsStore name a docker-credential-<name> program' }));
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 10_000, maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
    child.stdin?.end(serverUrl);
  });
}

/**
 * Credentials for a registry, as the Docker CLI finds them: explicit ones first, then the
 * registry's `credHelpers` entry, then `auths` (base64 `user:password`, or username/password,
 * or an identity token), then the `credsStore` helper. `undefined` means anonymous.
 */
export async function findCredentials(registry: string, options: CredentialOptions = {}): Promise<RegistryCredentials | undefined> {
  const ex = options.explicit;
  if (ex && (!ex.registry || ex.registry === registry)) return { username: ex.username, password: ex.password, source: 'the given credentials (--registry-user / REPO_USER)' };
  const file = options.configFile ?? dockerConfigPath(options.env);
  const config = readConfig(file);
  if (!config) return undefined;
  const run = options.runHelper ?? runCredentialHelper;
  const serverUrl = registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
  const viaHelper = async (helper: string, how: string): Promise<RegistryCredentials | undefined> => {
    let out: string;
    try {
      out = await run(helper, serverUrl);
    } catch (cause) {
      const msg = (cause as Error).message ?? '';
      // Helpers say "credentials not found in native keychain" for unknown servers: anonymous, not an error.
      if (/not found/i.test(msg)) return undefined;
      throw new KibokoError('REGISTRY_UNAUTHORIZED', `credential helper docker-credential-${helper} (${how} in ${file}) failed for ${registry}: ${msg.split('\n')[0]!.slice(0, 200)}`, {
        cause,
        hint: `check that docker-credential-${helper} is installed and unlocked (try: echo ${serverUrl} | docker-credential-${helper} get)`,
      });
    }
    let parsed: { Username?: unknown; Secret?: unknown };
    try {
      parsed = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
    } catch (cause) {
      throw new KibokoError('REGISTRY_UNAUTHORIZED', `docker-credential-${helper} answered something that is not JSON for ${registry}`, { cause, hint: 'update the credential helper' });
    }
    if (typeof parsed.Secret !== 'string' || parsed.Secret === '') return undefined;
    const username = typeof parsed.Username === 'string' ? parsed.Username : '';
    const source = `docker-credential-${helper} (${how} in ${file})`;
    return username === '<token>' ? { username: '', password: '', identityToken: parsed.Secret, source } : { username, password: parsed.Secret, source };
  };
  const helper = config.credHelpers?.[registry];
  if (helper) return viaHelper(helper, `credHelpers["${registry}"]`);
  for (const key of authKeys(registry)) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    const source = `${file} auths["${key}"]`;
    if (entry.identitytoken) return { username: entry.username ?? '', password: '', identityToken: entry.identitytoken, source };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source };
    // An empty entry (`{}`) is what docker login leaves when a credsStore holds the secret.
  }
  if (config.credsStore) return viaHelper(config.credsStore, 'credsStore');
  return undefined;
}

/** How a credential is named in an error: who and where from, never the secret. */
export function describeCredentials(c: RegistryCredentials | undefined): string {
  if (!c) return 'no credentials (anonymous)';
  return c.identityToken ? `an identity token from ${c.source}` : `user '${c.username}' from ${c.source}`;
}
