/** Every label key kiboko reads or writes, in one place. */
export const LABELS = {
  /** Never select a container carrying this label with value `true`. */
  skip: 'kiboko.skip',
  /** Set on everything kiboko creates, so leftovers can always be found. */
  managed: 'kiboko.managed',
  /** The run that created a helper or demo object. */
  runId: 'kiboko.run-id',
  /** What kiboko created it for (`demo`, `helper`, `test`, …). */
  role: 'kiboko.role',
  /** Pumba's skip labels, honoured so users' existing setups stay protected. */
  pumbaSkip: 'com.gaiaadm.pumba.skip',
  pumbaSelf: 'com.gaiaadm.pumba',
  /** Deploys: which project, service and replica slot a container is. */
  deployProject: 'kiboko.deploy.project',
  deployService: 'kiboko.deploy.service',
  deploySlot: 'kiboko.deploy.slot',
  /** Hash of the service's effective config (replicas and rollout settings excluded). */
  deployHash: 'kiboko.deploy.config-hash',
  /** The service's effective config as JSON, so plans can say what changed and rollbacks can rebuild it. */
  deployConfig: 'kiboko.deploy.config',
  /** The deploy revision that created the container. */
  deployRevision: 'kiboko.deploy.revision',
  /** Pumba's per-container stop signal, honoured by `stop`. */
  pumbaStopSignal: 'com.gaiaadm.pumba.stop-signal',
} as const;

export const SKIP_LABELS = [LABELS.skip, LABELS.pumbaSkip, LABELS.pumbaSelf] as const;
