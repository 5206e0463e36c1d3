import type { Command } from 'commander';
import { packagesTables } from './packages-options.js';
import type { Register } from './register.js';

type PackagesTables = ReturnType<typeof packagesTables>;

/**
 * Declares the `packages` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). Each action lazy-loads its implementation.
 */
export function definePackagesCommands(program: Command, register: Register): void {
  const t = packagesTables();
  defineBuildCommands(program, register, t);
  defineTestCommands(program, register, t);
}

/** `kiboko build` and `kiboko examine`: images as packages, with their metadata and ancestry. */
function defineBuildCommands(program: Command, register: Register, t: PackagesTables): void {
  const build = program
    .command('build')
    .argument('[path]', 'build context folder (default .)')
    .summary('build an image with kiboko metadata: OCI labels, ancestry of every kiboko-built base, /.kiboko/metadata.json')
    .description(
      'build an image through the engine and embed kiboko metadata: OCI labels, this build’s record (project, tags, git revision/ref/dirty, time, cause, CI build, host) appended to the ancestry of every kiboko-built base, the same JSON in the image at /.kiboko/metadata.json; --builder builds a build container first and copies its artifacts out',
    );
  register(build, t.build, async (o, path) => (await import('./packages-build.js')).runBuildCommand(o, path));

  const examine = program
    .command('examine')
    .argument('[target]', 'container or image')
    .summary('show the metadata and ancestry of an image or a container; --audit finds containers by metadata')
    .description('show the metadata of an image (or a container’s image) and of each kiboko-built ancestor, its lifecycle methods, and for a container when it started; --audit lists running containers whose metadata matches a filter');
  register(examine, t.examine, async (o, target) => (await import('./packages-build.js')).runExamineCommand(o, target));
}

/** `kiboko lifecycle` and `kiboko test` (typed exit codes: 0 ok, 1 failed, 2 not declared / no tests, 3 could not run). */
function defineTestCommands(program: Command, register: Register, t: PackagesTables): void {
  const lifecycle = program
    .command('lifecycle')
    .argument('<method>', 'the method: validate, start, update, monitor, metrics, … (label kiboko.method.<method> on the image or container)')
    .argument('[containers...]', "names, IDs, or 're2:<regex>'")
    .description('run a lifecycle method the image declares (LABEL kiboko.method.<name>=<command>) inside containers; exit 0 ok, 1 failed, 2 not declared, 3 could not run (several containers: the worst, in the order 1, 3, 2, 0)');
  register(lifecycle, t.lifecycle, async (o, methodAndContainers) => (await import('./packages-test.js')).runLifecycleCommand(o, methodAndContainers));

  const test = program
    .command('test')
    .argument('[images...]', 'image[:tag] to test, then optionally PATH: the build context (default the current directory, as docker-test); with --integration: test images to run instead of discovering them')
    .description(
      'test-aware images: build <image>:<tag>-test from a generated Dockerfile.test (ONTEST instructions, ONBUILD triggers), run the tests the image declares (label kiboko.ontest) with results at /var/tests/results, write JUnit and JSON; --integration runs the test.type containers against a deployed project. Exit 0 passed, 1 failed, 2 no tests, 3 could not run',
    );
  register(test, t.test, async (o, images) => (await import('./packages-test.js')).runTestCommand(o, images));
}
