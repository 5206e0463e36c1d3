/**
 * fleet's v1 units API, kiboko-style: a client for `kiboko serve` (or any fleet v1 endpoint),
 * the API handler and its registries (in memory, on the Docker engine, on Swarm), and the daemon
 * that reconciles desired unit states with containers.
 *
 * @example
 * ```ts
 * import { UnitsClient } from 'kiboko/units';
 *
 * const client = new UnitsClient({ endpoint: 'http://127.0.0.1:8555', token: process.env.KIBOKO_TOKEN });
 * await client.createUnit({
 *   name: 'hello.service',
 *   options: [{ section: 'Service', name: 'ExecStart', value: '/usr/bin/docker run --rm --name hello busybox sleep 3600' }],
 *   desiredState: 'launched',
 * });
 * for (const u of await client.listUnits()) console.log(u.name, u.desiredState, u.currentState);
 * ```
 *
 * @module kiboko/units
 */
export {
  UnitsClient,
  parseEndpoint,
  handleFleet,
  unitHash,
  unitNameError,
  isTemplate,
  templateOf,
  EngineRegistry,
  SwarmRegistry,
  startUnitsDaemon,
  DESIRED_STATES,
  type Endpoint,
  type UnitsClientOptions,
  type UnitContainerInfo,
  type JournalOptions,
  type JournalResult,
  type DesiredState,
  type FleetUnit,
  type FleetRequest,
  type FleetResponse,
  type Machine,
  type UnitOption,
  type UnitRegistry,
  type UnitStateRecord,
  type ReconcilingRegistry,
  type ReconcileMode,
  type UnitsRegistryOptions,
  type UnitsDaemon,
  type UnitsDaemonOptions,
} from '../units/index.js';
