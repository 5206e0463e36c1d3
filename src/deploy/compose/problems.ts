/** Problems found while loading compose files: collected with file, line and key path, thrown together. */
import { KibokoError } from '../../common/errors.js';

/** One validation problem, as listed in the thrown error's `details.errors`. */
export interface ComposeProblem {
  /** The file as given (relative to `cwd` when inside it). */
  file: string;
  /** 1-based; 0 when the problem has no line (a missing file). */
  line: number;
  /** Key path in the file, e.g. `services.web.ports[0]`; '' for the whole file. */
  path: string;
  /** What is wrong and how to fix it, e.g. `expected …, got "abc" — see https://…`. */
  message: string;
}

/** A warning (an unset variable, an ignored key): the load goes on. */
export interface ComposeWarning {
  file: string;
  line: number;
  path: string;
  message: string;
}

export const DOCS = 'https://docs.docker.com/reference/compose-file';
export const svcDocs = (key: string) => `see ${DOCS}/services/#${key}`;
export const deployDocs = (key?: string) => `see ${DOCS}/deploy/${key ? `#${key}` : ''}`;

/** `compose.yaml:12 services.web.ports[0]: expected …` */
export function formatComposeProblem(p: ComposeProblem | ComposeWarning): string {
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  return `${where}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
}

export interface Loc {
  readonly file: string;
  readonly line: number;
  readonly path: string;
}

export class Problems {
  readonly warnings: ComposeWarning[] = [];
  private readonly warned = new Set<string>();

  /** A warning, once per file, line and message. */
  warn(loc: Loc, message: string): void {
    const key = `${loc.file}\0${loc.line}\0${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push({ file: loc.file, line: loc.line, path: loc.path, message });
  }

  private readonly list: ComposeProblem[] = [];
  private readonly seen = new Set<string>();

  get empty(): boolean {
    return this.list.length === 0;
  }

  get messages(): string[] {
    return this.list.map((p) => p.message);
  }

  /** `hint` follows the message after an em dash: a fix, or `see <docs URL>`. */
  add(loc: Loc, message: string, hint?: string): void {
    const full = hint ? `${message} — ${hint}` : message;
    // An anchor used in several places reports its problem once.
    const key = `${loc.file}\0${loc.line}\0${full}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push({ file: loc.file, line: loc.line, path: loc.path, message: full });
  }

  toError(): KibokoError {
    return problemsError(this.list, 'fix these and run again; nothing was changed');
  }
}

export function problemsError(list: readonly ComposeProblem[], hint: string): KibokoError {
  const order = new Map<string, number>();
  for (const p of list) if (!order.has(p.file)) order.set(p.file, order.size);
  const sorted = [...list].sort((a, b) => order.get(a.file)! - order.get(b.file)! || a.line - b.line);
  const files = [...order.keys()].join(', ') || 'compose';
  const summary = `${files}: ${sorted.length} error${sorted.length === 1 ? '' : 's'}`;
  return new KibokoError('INVALID_ARGUMENT', [summary, ...sorted.map(formatComposeProblem)].join('\n'), {
    hint,
    details: { errors: sorted },
  });
}


/** The closest candidate within edit distance 2, for "did you mean …?". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
