import { describe, expect, expectTypeOf, it } from 'vitest';
import * as main from '../index.js';
import * as chaos from './chaos.js';
import * as deploy from './deploy.js';
import * as engine from './engine.js';
import * as template from './template.js';
import * as testing from './testing.js';
import * as units from './units.js';

/**
 * The library's public surface, pinned: the values each entry point exports (a change here is an
 * API change, to be made on purpose and noted in docs/library.md) and, as type tests (checked by
 * `tsc -p tsconfig.test.json`), the shapes users program against.
 */
describe('the public surface', () => {
  it('each entry point exports exactly its designed names', () => {
    expect(Object.keys(chaos).sort()).toEqual([
      'DEFAULT_CONCURRENCY', 'Journal', 'createNotifier', 'defaultStateDir', 'describeAction', 'parseLabelFilters', 'parseTargetArgs',
      'planChaos', 'planSelection', 'recoverOrphans', 'runExperiment', 'selectTargets', 'validateExperiment', 'validateProxySpec',
    ]);
    expect(Object.keys(deploy).sort()).toEqual([
      'DeployStore', 'deployProject', 'describeChanges', 'downProject', 'formatComposeProblem', 'formatTagPolicy', 'loadCompose',
      'loadConfiguration', 'newService', 'parseCompose', 'parseTagPolicy', 'planProject', 'psProject', 'pullProject', 'renderConfig',
      'resolveConfiguration', 'restartProject', 'rollbackProject', 'setTagInComposeFile', 'useSwarm',
    ]);
    expect(Object.keys(units).sort()).toEqual([
      'DESIRED_STATES', 'EngineRegistry', 'SwarmRegistry', 'UnitsClient', 'handleFleet', 'isTemplate', 'parseEndpoint', 'startUnitsDaemon',
      'templateOf', 'unitHash', 'unitNameError',
    ]);
    expect(Object.keys(template).sort()).toEqual([
      'CONFD_FUNC_NAMES', 'KVPair', 'MemKv', 'Template', 'TemplateError', 'applyPlan', 'applyResource', 'confdFuncs', 'containerDestination',
      'hostDestination', 'loadConfdConfig', 'loadResources', 'openBackend', 'parseBackendName', 'parseConfdConfig', 'parseResource',
      'parseTemplate', 'planResource', 'renderText', 'renderWithDnsPrefetch', 'runTemplate', 'unifiedDiff',
    ]);
    expect(Object.keys(engine).sort()).toEqual(['DEFAULT_HOST', 'connectEngine', 'resolveConnection']);
    expect(Object.keys(testing).sort()).toEqual(['FakeEngine', 'MemoryRegistry']);
  });

  it('the main entry holds the essentials and the capabilities as namespaces, and no test double', () => {
    expect(Object.keys(main).sort()).toEqual([
      'EXIT_CODES', 'InternalError', 'KibokoError', 'VERSION', 'chaos', 'connectEngine', 'deploy', 'events', 'formatDuration', 'journal',
      'methods', 'packages', 'parseDuration', 'parseSignal', 'registry', 'resolveConnection', 'targets', 'template', 'units', 'watch',
    ]);
    expect(Object.keys(main.chaos).sort()).toEqual(Object.keys(chaos).sort());
    expect(Object.keys(main.deploy).sort()).toEqual(Object.keys(deploy).sort());
    expect(Object.keys(main.units).sort()).toEqual(Object.keys(units).sort());
    expect(Object.keys(main.template).sort()).toEqual(Object.keys(template).sort());
    expect(main.chaos.runExperiment).toBe(chaos.runExperiment);
    expect('FakeEngine' in main).toBe(false);
  });

  it('types: the signatures users program against', () => {
    expectTypeOf(chaos.runExperiment).parameters.toEqualTypeOf<[chaos.ExperimentOptions, chaos.ExperimentDeps]>();
    expectTypeOf(chaos.runExperiment).returns.resolves.toEqualTypeOf<chaos.ChaosReport>();
    expectTypeOf<chaos.ExperimentDeps['journal']>().toEqualTypeOf<chaos.Journal>();
    expectTypeOf<chaos.ExperimentDeps['engine']>().toEqualTypeOf<engine.Engine>();
    expectTypeOf<chaos.ExperimentOptions['targets']>().toEqualTypeOf<chaos.TargetQuery>();
    expectTypeOf(chaos.parseTargetArgs).returns.toEqualTypeOf<chaos.TargetQuery>();
    expectTypeOf<chaos.ChaosEvent['type']>().toExtend<string>();

    expectTypeOf(engine.connectEngine).returns.resolves.toEqualTypeOf<engine.Engine>();
    expectTypeOf(engine.connectEngine).parameter(0).toEqualTypeOf<engine.ConnectionFlags | undefined>();
    expectTypeOf<testing.FakeEngine>().toExtend<engine.Engine>();
    expectTypeOf<testing.MemoryRegistry>().toExtend<units.UnitRegistry>();

    expectTypeOf(deploy.loadConfiguration).returns.resolves.toEqualTypeOf<deploy.SystemConfig>();
    expectTypeOf(deploy.planProject).returns.resolves.toEqualTypeOf<deploy.DeployPlan>();
    expectTypeOf(deploy.deployProject).returns.resolves.toEqualTypeOf<deploy.DeployRun>();
    expectTypeOf<deploy.DeployRun['result']>().toEqualTypeOf<deploy.ApplyResult>();
    expectTypeOf<deploy.PlanStep['action']>().toEqualTypeOf<deploy.StepAction>();

    expectTypeOf<units.UnitsClient['listUnits']>().returns.resolves.toEqualTypeOf<units.FleetUnit[]>();
    expectTypeOf<units.UnitsClient['createUnit']>().parameter(0).toExtend<{ name: string; options: readonly units.UnitOption[]; desiredState: units.DesiredState }>();
    expectTypeOf<units.DesiredState>().toEqualTypeOf<'inactive' | 'loaded' | 'launched'>();

    expectTypeOf(template.parseTemplate).returns.toEqualTypeOf<template.Template>();
    expectTypeOf<template.Template['execute']>().returns.toEqualTypeOf<string>();
    expectTypeOf(template.confdFuncs).returns.toEqualTypeOf<template.FuncMap>();

    // The main entry's namespaces are the designed entry points, and FakeEngine is not in it.
    expectTypeOf<typeof main.chaos>().toEqualTypeOf<typeof chaos>();
    expectTypeOf<typeof main.deploy>().toEqualTypeOf<typeof deploy>();
    expectTypeOf<typeof main>().not.toHaveProperty('FakeEngine');
    expectTypeOf<main.Engine>().toEqualTypeOf<engine.Engine>();
  });
});
