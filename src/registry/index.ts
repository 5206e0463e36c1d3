export { RegistryClient, MANIFEST_TYPES, type RegistryClientOptions, type RegistryStats, type ManifestInfo, type Platform } from './client.js';
export { findCredentials, describeCredentials, dockerConfigPath, runCredentialHelper, type RegistryCredentials, type CredentialOptions } from './credentials.js';
export { parseReference, formatReference, repositoryName, apiHost, isLoopbackHost, DOCKER_HUB, type ImageReference } from './reference.js';
export { parseChallenge, retryAfterMs, nextLink, type Challenge } from './challenge.js';
export { pullImage, engineAuthFor, type RobustPullOptions } from './pull.js';
