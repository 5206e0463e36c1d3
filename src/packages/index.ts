/** Containers as packages: image metadata, lifecycle methods, test-aware images, integration-test containers. */
export {
  testImage,
  parseTestCommands,
  parseOntestInstructions,
  testImageRef,
  generateDockerfileTest,
  collectResults,
  writeTestReports,
  RESULTS_DIR,
  TEST_EXIT,
  type TestCommand,
  type TestEvent,
  type ImageTestOptions,
  type ImageTestReport,
  type CollectedResults,
} from './testing.js';
export { runIntegrationTests, discoverTestImages, projectNetworks, deployWithTests, type TestImage, type IntegrationOptions, type IntegrationEvent, type IntegrationReport, type GatedDeploy } from './integration.js';
export { junitXml, jsonReport, escapeXml, readJunitCounts, readJsonCounts, totals, type TestCaseResult, type TestSuiteResult, type Totals } from './junit.js';
export {
  buildRecord,
  decodeMetadata,
  documentFromLabels,
  encodeLabels,
  ancestryOf,
  detectCi,
  readGitInfo,
  sanitizeRemoteUrl,
  parseImageTag,
  parseMethodOption,
  methodsFromLabels,
  metadataFileText,
  PackageRecordSchema,
  METADATA_FILE,
  KNOWN_METHODS,
  type PackageRecord,
  type MetadataDocument,
  type DecodedMetadata,
  type CiInfo,
  type GitInfo,
  type GitFacts,
} from './metadata.js';
export { parseDockerfile, resolveBaseImage, type ParsedDockerfile, type DockerfileStage, type BaseImage } from './dockerfile.js';
export { buildPackage, type BuildRequest, type BuildResult, type BuildEvent, type BuildStep } from './build.js';
export { buildWithBuilder, extractArtifact, parseArtifactOption, type ArtifactSpec, type BuilderRequest, type BuilderResult, type ExtractedArtifact } from './builder.js';
export { examine, type ExamineResult, type ExamineOptions, type ExaminedLevel, type ExaminedMethod, type ExaminedContainer } from './examine.js';
export { audit, parseAuditFilter, matchesAudit, parseAge, type AuditCondition, type AuditMatch, type AuditOptions } from './audit.js';
