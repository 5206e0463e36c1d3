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
  /** Images as packages: this build's metadata record (JSON), set by `kiboko build`. */
  packageMeta: 'kiboko.meta',
  /** The metadata records of every kiboko-built ancestor (JSON array, oldest first). */
  packageAncestry: 'kiboko.ancestry',
  /** Where the same metadata lives as a file inside the image. */
  packageMetaFile: 'kiboko.meta-file',
  /** Prefix of lifecycle method labels: `kiboko.method.validate=/srv/bin/validate.sh`. */
  methodPrefix: 'kiboko.method.',
  /** Deploys: a lifecycle method (e.g. `validate`) a new replica must pass before it counts as ready. */
  deployGate: 'kiboko.deploy.gate',
  /** Test-aware images: test commands (JSON list), run by `kiboko test` in containers of `<image>:<tag>-test`. */
  ontest: 'kiboko.ontest',
  /** Test-aware images: Dockerfile instructions (JSON list) replayed only in the generated Dockerfile.test (ONTEST). */
  ontestBuild: 'kiboko.ontest.build',
  /** On `<image>:<tag>-test` images and test containers kiboko makes: the image under test. */
  testOf: 'kiboko.test-of',
  /** Integration-test images: the kind of test (integration, performance, security, chaos, …). */
  testType: 'test.type',
  /** Integration-test images: where the container writes its results (default /var/tests/results). */
  testResults: 'test.results',
  /** Integration-test images: the deploy project they test (optional). */
  testProject: 'test.project',
} as const;

/**
 * docker compose's own labels (v2, and v1 before it): kiboko writes them on the containers,
 * networks and volumes it deploys, so `docker compose ps/logs/down` see its projects, and reads
 * them to adopt what `docker compose up` started.
 */
export const COMPOSE_LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  containerNumber: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

export const SKIP_LABELS = [LABELS.skip, LABELS.pumbaSkip, LABELS.pumbaSelf] as const;
