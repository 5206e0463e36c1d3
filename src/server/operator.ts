import type { Engine } from '../engine/index.js';
import type { ApiCall, ApiReply, Credential } from './api-types.js';
import type { ChaosService } from './chaos.js';
import { ChaosRuns } from './chaos-runs.js';
import type { DeployService } from './deploys.js';
import { HttpError } from './errors.js';
import { servicesView } from './services-view.js';

export interface OperatorDeps {
  engine?: Engine | undefined;
  deploys?: DeployService | undefined;
  chaos?: ChaosService | undefined;
}

export interface OperatorRoute {
  method: string;
  pattern: string;
  handler: (call: ApiCall) => Promise<ApiReply>;
}

/** Credentials that may change things: a dashboard session never does (it is GET-only anyway). */
const ACTING: readonly Credential[] = ['token', 'socket', 'certificate'];

const unavailable = (what: string): never => {
  throw new HttpError(503, 'NOT_ENABLED', `${what} is not enabled on this daemon`, 'start kiboko serve with the engine connection (and --project NAME=PATH for services)');
};

/**
 * The operator's views behind the dashboard: `GET /v1/services` (configured vs running images,
 * replicas with their last healthcheck output), `GET /v1/chaos/runs` (experiments of the daemon
 * and of CLI runs sharing its state directory) and `POST /v1/chaos/runs/:id/stop`.
 */
export function operatorRoutes(d: OperatorDeps): OperatorRoute[] {
  let runs: ChaosRuns | undefined;
  const chaosRuns = () => {
    if (!d.chaos || !d.engine) return unavailable('chaos');
    runs ??= new ChaosRuns({ engine: d.engine, chaos: d.chaos, journal: d.chaos.journal });
    return runs;
  };
  return [
    {
      method: 'GET',
      pattern: '/v1/services',
      handler: async () => {
        if (!d.deploys || !d.engine) return unavailable('deploying');
        return { status: 200, body: { projects: await servicesView(d.deploys, d.engine) } };
      },
    },
    { method: 'GET', pattern: '/v1/chaos/runs', handler: async () => ({ status: 200, body: { runs: await chaosRuns().list() } }) },
    {
      method: 'POST',
      pattern: '/v1/chaos/runs/:id/stop',
      handler: async (c) => {
        if (!c.credential || !ACTING.includes(c.credential)) throw new HttpError(403, 'FORBIDDEN', 'stopping a chaos run needs the bearer token', 'send Authorization: Bearer <token>');
        return { status: 200, body: await chaosRuns().stop(c.params.id!) };
      },
    },
  ];
}
