import { docker } from './helpers.js';

/**
 * A one-node Swarm for one test file's project, made only when the engine is not in one already
 * (`swarm init` on 127.0.0.1) and left again only by the file that made it. Cleanup removes what
 * carries the project: its services (then waits for their tasks' containers to go), its secrets
 * and configs (named `<project>_…`) and its networks (by label) — nothing else on the shared engine.
 */
export interface ProjectSwarm {
  /** Joins (or makes) the Swarm; call from beforeAll. */
  setUp(): Promise<void>;
  /** Removes the project's Swarm objects, and leaves the Swarm when setUp made it; call from afterAll. */
  tearDown(): Promise<void>;
  /** The project's services. */
  services(): ReturnType<typeof docker.listServices>;
}

export function projectSwarm(project: string): ProjectSwarm {
  let initialisedHere = false;
  const label = JSON.stringify({ label: [`kiboko.deploy.project=${project}`] });
  const services = () => docker.listServices({ filters: label });
  const ours = (name: string | undefined) => Boolean(name?.startsWith(`${project}_`));
  return {
    services,
    async setUp() {
      const info = await docker.info();
      if (info.Swarm?.LocalNodeState !== 'active') {
        await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
        initialisedHere = true;
      }
    },
    async tearDown() {
      for (const s of await services().catch(() => [])) await docker.getService(s.ID).remove().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 3000)); // let the tasks' containers go
      for (const s of await docker.listSecrets().catch(() => [])) if (ours(s.Spec?.Name)) await docker.getSecret(s.ID).remove().catch(() => undefined);
      for (const c of await docker.listConfigs().catch(() => [])) if (ours(c.Spec?.Name)) await docker.getConfig(c.ID).remove().catch(() => undefined);
      for (const n of await docker.listNetworks({ filters: label }).catch(() => [])) await docker.getNetwork(n.Id).remove().catch(() => undefined);
      if (initialisedHere) await docker.swarmLeave({ force: true });
    },
  };
}
