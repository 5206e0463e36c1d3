import type { Command } from 'commander';
import { collect, engineAction, labelFilterOption } from './command-options.js';

/**
 * Declares the `packages` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation, e.g.
 * `process.exitCode = await (await import('./packages.js')).run(command)`.
 */
export function definePackagesCommands(program: Command): void {
  defineBuildCommands(program);
  defineTestCommands(program);
}

/** `kiboko build` and `kiboko examine`: images as packages, with their metadata and ancestry. */
export function defineBuildCommands(program: Command): void {
  const build = program
    .command('build')
    .argument('[path]', 'build context folder (default .)')
    .summary('build an image with kiboko metadata: OCI labels, ancestry of every kiboko-built base, /.kiboko/metadata.json')
    .description(
      'build an image through the engine and embed kiboko metadata: OCI labels, this build’s record (project, tags, git revision/ref/dirty, time, cause, CI build, host) appended to the ancestry of every kiboko-built base, the same JSON in the image at /.kiboko/metadata.json; --builder builds a build container first and copies its artifacts out',
    )
    .option('-t, --tag <name:tag>', 'name the image (repeatable; the first is the main tag)', collect)
    .option('-f, --file <path>', 'Dockerfile (default <path>/Dockerfile; may lie outside the context)')
    .option('--build-arg <KEY=value>', 'build argument (repeatable; KEY alone takes it from the environment)', collect)
    .option('--target <stage>', 'build this stage of a multi-stage Dockerfile')
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'always try to pull newer base images')
    .option('--label <key=value>', 'an extra label (repeatable; may override the OCI keys)', collect)
    .option('--method <name=command>', 'declare a lifecycle method, e.g. validate=/srv/bin/validate.sh (repeatable; also LABEL kiboko.method.<name> in the Dockerfile)', collect)
    .option('--project <name>', 'project recorded in the metadata (default: the git repository’s folder name)')
    .option('--cause <text>', 'why it is built (default: the CI trigger, else manual)')
    .option('--image-version <version>', 'org.opencontainers.image.version (default: the git tag at HEAD, else the main tag’s tag)')
    .option('--builder <Dockerfile.build>', 'build this builder Dockerfile first and copy --artifact paths out of it')
    .option('--artifact <builder-path:local-path>', 'with --builder: copy this path out of the builder (repeatable), e.g. /out/app:./dist/app', collect)
    .option('-q, --quiet', 'do not print the build output')
    .option('-j, --json', 'NDJSON events (no build output), ending with the built image and its record');
  engineAction(build, async (command, path) => (await import('./packages-build.js')).runBuildCommand(command, path));

  const examine = program
    .command('examine')
    .argument('[target]', 'container or image')
    .summary('show the metadata and ancestry of an image or a container; --audit finds containers by metadata')
    .description('show the metadata of an image (or a container’s image) and of each kiboko-built ancestor, its lifecycle methods, and for a container when it started; --audit lists running containers whose metadata matches a filter')
    .option('--type <container|image>', 'look only for a container or only for an image')
    .option('--audit <filter>', 'list running containers whose image metadata matches, e.g. git.ref=main, git.revision=3f2a9c1, age>7d, project=shop,dirty=true, ancestor.image=acme/base (repeatable, AND)', collect)
    .option('--all', 'with --audit: stopped containers too')
    .option('-j, --json', 'JSON output (--audit: one line per container)');
  engineAction(examine, async (command, target) => (await import('./packages-build.js')).runExamineCommand(command, target));
}

/** `kiboko lifecycle` and `kiboko test` (typed exit codes: 0 ok, 1 failed, 2 not declared / no tests, 3 could not run). */
export function defineTestCommands(program: Command): void {
  const lifecycle = program
    .command('lifecycle')
    .argument('<method>', 'the method: validate, start, update, monitor, metrics, … (label kiboko.method.<method> on the image or container)')
    .argument('[containers...]', "names, IDs, or 're2:<regex>'")
    .description('run a lifecycle method the image declares (LABEL kiboko.method.<name>=<command>) inside containers; exit 0 ok, 1 failed, 2 not declared, 3 could not run (several containers: the worst, in the order 1, 3, 2, 0)')
    .option('--all', 'every running container that declares the method')
    .addOption(labelFilterOption())
    .option('--timeout <duration>', 'per container; longer counts as could not run (default 60s)')
    .option('--concurrency <n>', 'containers at once (default 8)')
    .option('-u, --user <user>', 'run the method as this user (default: the container’s user)')
    .option('-e, --env <KEY=value>', 'environment for the method (repeatable)', collect)
    .option('-q, --quiet', 'do not stream the method’s output, only the outcomes')
    .option('-j, --json', 'NDJSON: the output, then each container’s outcome, then the summary');
  engineAction(lifecycle, async (command, methodAndContainers) => (await import('./packages-test.js')).runLifecycleCommand(command, methodAndContainers));

  const test = program
    .command('test')
    .argument('[images...]', 'image[:tag] to test, then optionally PATH: the build context (default the current directory, as docker-test); with --integration: test images to run instead of discovering them')
    .description(
      'test-aware images: build <image>:<tag>-test from a generated Dockerfile.test (ONTEST instructions, ONBUILD triggers), run the tests the image declares (label kiboko.ontest) with results at /var/tests/results, write JUnit and JSON; --integration runs the test.type containers against a deployed project. Exit 0 passed, 1 failed, 2 no tests, 3 could not run',
    )
    .option('--context <dir>', 'build context for the ONTEST and ONBUILD instructions (COPY sources); alias of the PATH argument (default the current directory)')
    .option('--build-arg <KEY=value>', 'build argument for Dockerfile.test (repeatable; KEY alone takes it from the environment)', collect)
    .option('--no-cache', 'build the test image without the build cache')
    .option('--pull', 'pull newer base images while building')
    .option('-e, --env <KEY=value>', 'environment for the test containers (repeatable; KEY alone passes it through)', collect)
    .option('--network <name>', 'network (mode) of the test containers')
    .option('--keep', 'keep <image>:<tag>-test afterwards')
    .option('--timeout <duration>', 'per test container; longer counts as failed (default 10m)')
    .option('--report-dir <dir>', 'where junit.xml, report.json and the collected results go (default ./test-results)')
    .option('--integration', 'run integration-test containers (images labelled test.type), collecting their test.results folder')
    .option('--type <type>', 'with --integration: only this test.type (integration, performance, security, chaos, …)')
    .option('--project <name>', 'with --integration: the deployed project whose networks the tests join')
    .option('--label <key=value>', 'with --integration: only test images with this label (repeatable)', collect)
    .option('--concurrency <n>', 'with --integration: test containers at once (default 1)')
    .option('--verbose', 'print build output and the output of passing tests too')
    .option('-j, --json', 'NDJSON events, then a summary record');
  engineAction(test, async (command, images) => (await import('./packages-test.js')).runTestCommand(command, images));
}
