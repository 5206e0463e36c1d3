import { ENGINE_OPTIONS, flag, labelFilterOption, list, value, type OptionsOf } from './command-options.js';

/** The option tables of `kiboko build`, `examine`, `lifecycle` and `test`: images as packages. */

/** `--concurrency`, `--timeout` and the others these commands describe each in their own words. */
const concurrency = (description: string) => value('--concurrency <n>', description);
const timeout = (description: string) => value('--timeout <duration>', description);

export const packagesTables = () => ({
  build: {
    tag: list('-t, --tag <name:tag>', 'name the image (repeatable; the first is the main tag)'),
    file: value('-f, --file <path>', 'Dockerfile (default <path>/Dockerfile; may lie outside the context)'),
    buildArg: list('--build-arg <KEY=value>', 'build argument (repeatable; KEY alone takes it from the environment)'),
    target: value('--target <stage>', 'build this stage of a multi-stage Dockerfile'),
    cache: flag('--no-cache', 'do not use the build cache'),
    pull: flag('--pull', 'always try to pull newer base images'),
    label: list('--label <key=value>', 'an extra label (repeatable; may override the OCI keys)'),
    method: list('--method <name=command>', 'declare a lifecycle method, e.g. validate=/srv/bin/validate.sh (repeatable; also LABEL kiboko.method.<name> in the Dockerfile)'),
    project: value('--project <name>', 'project recorded in the metadata (default: the git repository’s folder name)'),
    cause: value('--cause <text>', 'why it is built (default: the CI trigger, else manual)'),
    imageVersion: value('--image-version <version>', 'org.opencontainers.image.version (default: the git tag at HEAD, else the main tag’s tag)'),
    builder: value('--builder <Dockerfile.build>', 'build this builder Dockerfile first and copy --artifact paths out of it'),
    artifact: list('--artifact <builder-path:local-path>', 'with --builder: copy this path out of the builder (repeatable), e.g. /out/app:./dist/app'),
    quiet: flag('-q, --quiet', 'do not print the build output'),
    json: flag('-j, --json', 'NDJSON events (no build output), ending with the built image and its record'),
    ...ENGINE_OPTIONS,
  },
  examine: {
    type: value('--type <container|image>', 'look only for a container or only for an image'),
    audit: list('--audit <filter>', 'list running containers whose image metadata matches, e.g. git.ref=main, git.revision=3f2a9c1, age>7d, project=shop,dirty=true, ancestor.image=acme/base (repeatable, AND)'),
    all: flag('--all', 'with --audit: stopped containers too'),
    json: flag('-j, --json', 'JSON output (--audit: one line per container)'),
    ...ENGINE_OPTIONS,
  },
  lifecycle: {
    all: flag('--all', 'every running container that declares the method'),
    label: labelFilterOption(),
    timeout: timeout('per container; longer counts as could not run (default 60s)'),
    concurrency: concurrency('containers at once (default 8)'),
    user: value('-u, --user <user>', 'run the method as this user (default: the container’s user)'),
    env: list('-e, --env <KEY=value>', 'environment for the method (repeatable)'),
    quiet: flag('-q, --quiet', 'do not stream the method’s output, only the outcomes'),
    json: flag('-j, --json', 'NDJSON: the output, then each container’s outcome, then the summary'),
    ...ENGINE_OPTIONS,
  },
  test: {
    context: value('--context <dir>', 'build context for the ONTEST and ONBUILD instructions (COPY sources); alias of the PATH argument (default the current directory)'),
    buildArg: list('--build-arg <KEY=value>', 'build argument for Dockerfile.test (repeatable; KEY alone takes it from the environment)'),
    cache: flag('--no-cache', 'build the test image without the build cache'),
    pull: flag('--pull', 'pull newer base images while building'),
    env: list('-e, --env <KEY=value>', 'environment for the test containers (repeatable; KEY alone passes it through)'),
    network: value('--network <name>', 'network (mode) of the test containers'),
    keep: flag('--keep', 'keep <image>:<tag>-test afterwards'),
    timeout: timeout('per test container; longer counts as failed (default 10m)'),
    reportDir: value('--report-dir <dir>', 'where junit.xml, report.json and the collected results go (default ./test-results)'),
    integration: flag('--integration', 'run integration-test containers (images labelled test.type), collecting their test.results folder'),
    type: value('--type <type>', 'with --integration: only this test.type (integration, performance, security, chaos, …)'),
    project: value('--project <name>', 'with --integration: the deployed project whose networks the tests join'),
    label: list('--label <key=value>', 'with --integration: only test images with this label (repeatable)'),
    concurrency: concurrency('with --integration: test containers at once (default 1)'),
    verbose: flag('--verbose', 'print build output and the output of passing tests too'),
    json: flag('-j, --json', 'NDJSON events, then a summary record'),
    ...ENGINE_OPTIONS,
  },
});

/** What one of these commands reads, typed from its table. */
export type PackagesOptions<C extends keyof ReturnType<typeof packagesTables>> = OptionsOf<(ReturnType<typeof packagesTables>)[C]>;
