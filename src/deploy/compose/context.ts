/** What every reader of a compose file shares: where problems go, the project folder, the variables, the declared names. */
import type { Lookup } from '../../shellwords/index.js';
import type { Problems } from './problems.js';

export interface Context {
  problems: Problems;
  /** Absolute project folder: relative paths in the files start here (extends/include rebased theirs already). */
  projectDir: string;
  /** Interpolation variables: the process environment, then `--env-file`s (or the project's `.env`). */
  lookup: Lookup;
  readFile: (abs: string) => string | undefined;
  display: (abs: string) => string;
  home: string;
  /** Files read, for the configuration's `sources`. */
  sources: string[];
  /** Declared top-level names, for references from services. */
  networks: Set<string>;
  volumes: Set<string>;
  secrets: Set<string>;
  configs: Set<string>;
  services: Set<string>;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
