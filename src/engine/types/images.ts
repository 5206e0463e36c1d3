/** Images: building, pulling (with progress and registry credentials), listing and inspecting. */

export interface BuildOptions {
  /** Directory sent as the build context (`.dockerignore` honoured). */
  contextDir: string;
  tag: string;
  /** Further `repo:tag` names given to the built image. */
  extraTags?: readonly string[];
  /** Dockerfile path relative to the context (default `Dockerfile`). */
  dockerfile?: string;
  /** Dockerfile text to build instead of the file (sent in the context as a temporary entry). */
  dockerfileContent?: string;
  /** Generated files added to the context (name → text), e.g. a file a `COPY` picks up; never written to disk. */
  contextFiles?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  buildArgs?: Readonly<Record<string, string>>;
  /** Multi-stage target. */
  target?: string;
  noCache?: boolean;
  /** Always attempt to pull newer base images. */
  pull?: boolean;
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ImageSummary {
  id: string;
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/** One image, inspected. */
export interface ImageDetails {
  id: string;
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
  /** ISO time the image was created. */
  created: string;
  /** Parent image id (locally built images only; empty otherwise). */
  parent: string;
  env: readonly string[];
  entrypoint: readonly string[] | undefined;
  cmd: readonly string[] | undefined;
  workingDir: string;
  user: string;
  /** ONBUILD triggers recorded in the image. */
  onBuild: readonly string[];
  /** Layer diff ids, oldest first (an image built FROM another starts with its layers). */
  layers: readonly string[];
  size: number;
  /** `repo@sha256:…` per registry the image was pulled from or pushed to (the registry's manifest/index digest). */
  repoDigests?: readonly string[] | undefined;
}

/** Credentials the engine passes to a registry for one pull (X-Registry-Auth). */
export interface RegistryAuth {
  username?: string | undefined;
  password?: string | undefined;
  identitytoken?: string | undefined;
  serveraddress: string;
}

/** One progress message of a pull, as the engine streams it (per layer when `id` is a layer). */
export interface PullProgress {
  /** The layer (short digest), or the tag/digest for whole-image messages. */
  id?: string | undefined;
  /** `Pulling fs layer`, `Downloading`, `Extracting`, `Pull complete`, `Already exists`, `Digest: …`… */
  status: string;
  /** Bytes done and in all, while downloading or extracting. */
  current?: number | undefined;
  total?: number | undefined;
}

export interface PullOptions {
  auth?: RegistryAuth | undefined;
  signal?: AbortSignal | undefined;
  /** Fail (and abort the pull) when the engine reports no progress for this long. */
  stallTimeoutMs?: number | undefined;
}
