import { invalidArgument } from '../common/errors.js';
import { splitQuotedWords } from '../shellwords/index.js';

/**
 * Just enough of the Dockerfile grammar for `kiboko build`: parser directives (`# escape=`),
 * line continuations, comments, heredocs (skipped), global ARGs and the FROM line of each stage.
 * It finds the base image of the stage that is built (the last one, or `--target`) and where
 * that stage ends, so a final instruction can be added to it.
 */

export interface DockerfileInstruction {
  /** Upper-case keyword (`FROM`, `ARG`, …). */
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
  /** 0-based index of its first and last physical line. */
  startLine: number;
  endLine: number;
}

export interface DockerfileStage {
  index: number;
  /** `AS name`, lower-cased (stage names are case-insensitive). */
  name: string | undefined;
  /** The image reference as written, before variable substitution. */
  from: string;
  platform: string | undefined;
  /** Instructions of the stage, FROM included. */
  instructions: DockerfileInstruction[];
  /** 0-based index of the stage's last physical line (before the next FROM). */
  endLine: number;
}

export interface ParsedDockerfile {
  escape: '\\' | '`';
  /** ARGs before the first FROM: name → default (undefined when declared without one). */
  globalArgs: ReadonlyMap<string, string | undefined>;
  stages: DockerfileStage[];
  lineCount: number;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<-?\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\1/g;

/** Splits the text into logical instructions. */
export function parseInstructions(text: string): { escape: '\\' | '`'; instructions: DockerfileInstruction[]; lineCount: number } {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let escape: '\\' | '`' = '\\';
  let i = 0;
  // Parser directives: only at the very top, before any blank line, comment or instruction.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!.trim());
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw invalidArgument(`invalid Dockerfile escape directive '${m[2]}': expected \\ or \``, 'use # escape=` or # escape=\\');
      escape = m[2];
    }
  }
  const instructions: DockerfileInstruction[] = [];
  while (i < lines.length) {
    const first = lines[i]!;
    const trimmed = first.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const start = i;
    let body = '';
    let line = first;
    for (;;) {
      const t = line.replace(/\s+$/, '');
      if (t.endsWith(escape) && i + 1 < lines.length) {
        body += t.slice(0, -1);
        i++;
        // Comment lines inside a continued instruction are dropped, as Docker does.
        while (i < lines.length && lines[i]!.trim().startsWith('#')) i++;
        if (i >= lines.length) break;
        line = lines[i]!;
        continue;
      }
      body += t;
      break;
    }
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(body)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    // Heredocs (`RUN <<EOF … EOF`): their lines are data, not instructions.
    const words = [...args.matchAll(HEREDOC)].map((h) => h[2]!);
    for (const word of words) {
      i++;
      while (i < lines.length && lines[i]!.replace(/^\t+/, '').trimEnd() !== word) i++;
    }
    instructions.push({ keyword, args, startLine: start, endLine: Math.min(i, lines.length - 1) });
    i++;
  }
  return { escape, instructions, lineCount: lines.length };
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const { escape, instructions, lineCount } = parseInstructions(text);
  const globalArgs = new Map<string, string | undefined>();
  const stages: DockerfileStage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter(Boolean);
      let platform: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift()!;
        const p = /^--platform=(.*)$/.exec(flag);
        if (p) platform = p[1];
      }
      const from = words[0];
      if (!from) throw invalidArgument(`Dockerfile line ${ins.startLine + 1}: FROM needs an image`, 'write e.g. FROM busybox:1.36');
      let name: string | undefined;
      if (words.length >= 3 && words[1]!.toLowerCase() === 'as') name = words[2]!.toLowerCase();
      else if (words.length > 1) throw invalidArgument(`Dockerfile line ${ins.startLine + 1}: expected 'FROM image [AS name]', got 'FROM ${ins.args}'`, 'fix the FROM line');
      stages.push({ index: stages.length, name, from, platform, instructions: [ins], endLine: ins.endLine });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) {
      if (ins.keyword === 'ARG') for (const [k, v] of parseArgDeclarations(ins.args)) globalArgs.set(k, v);
      else throw invalidArgument(`Dockerfile line ${ins.startLine + 1}: ${ins.keyword} before the first FROM`, 'only ARG may come before FROM');
      continue;
    }
    stage.instructions.push(ins);
    stage.endLine = ins.endLine;
  }
  if (stages.length === 0) throw invalidArgument('the Dockerfile has no FROM instruction', 'start it with e.g. FROM busybox or FROM scratch');
  return { escape, globalArgs, stages, lineCount };
}

/** `ARG A=1 B` → [[A, '1'], [B, undefined]] (quotes removed). */
function parseArgDeclarations(args: string): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const word of splitWords(args)) {
    const eq = word.indexOf('=');
    if (eq < 0) out.push([word, undefined]);
    else out.push([word.slice(0, eq), word.slice(eq + 1)]);
  }
  return out;
}

/** Splits on whitespace outside quotes and strips the quotes (a backslash escapes only inside double quotes; an open quote runs to the end). */
function splitWords(text: string): string[] {
  return splitQuotedWords(text, { escapeOutside: false }).words;
}

/**
 * Substitutes `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` the way FROM lines see them
 * (global ARGs only). Returns undefined for anything fancier.
 */
export function substitute(text: string, vars: ReadonlyMap<string, string | undefined>): string | undefined {
  let ok = true;
  const out = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))|\$\{[^}]*\}?/g, (whole, braced?: string, op?: string, word?: string, bare?: string) => {
    const name = braced ?? bare;
    if (!name) {
      ok = false;
      return whole;
    }
    const value = vars.get(name);
    if (op === ':-') return value ? value : (word ?? '');
    if (op === ':+') return value ? (word ?? '') : '';
    return value ?? '';
  });
  return ok ? out : undefined;
}

export interface BaseImage {
  /** The stage that is built. */
  stage: DockerfileStage;
  /** The external image it starts from; undefined for `scratch`. */
  name: string | undefined;
  /** True when the FROM line could not be resolved (variables beyond the simple forms). */
  unresolved: boolean;
}

/**
 * The external base image of the built stage: follows `FROM <earlier stage>` chains and resolves
 * global ARGs (defaults overridden by build args, as `docker build --build-arg` does).
 */
export function resolveBaseImage(parsed: ParsedDockerfile, options: { target?: string | undefined; buildArgs?: Readonly<Record<string, string>> | undefined } = {}): BaseImage {
  const target = options.target?.toLowerCase();
  const built = target === undefined ? parsed.stages[parsed.stages.length - 1]! : parsed.stages.find((s) => s.name === target);
  if (!built) {
    const names = parsed.stages.map((s) => s.name).filter(Boolean);
    throw invalidArgument(`no build stage named '${options.target}' in the Dockerfile`, names.length ? `stages: ${names.join(', ')}` : 'name a stage with FROM image AS name');
  }
  const vars = new Map<string, string | undefined>();
  for (const [k, v] of parsed.globalArgs) vars.set(k, options.buildArgs?.[k] ?? v);
  let stage = built;
  for (let hops = 0; hops <= parsed.stages.length; hops++) {
    const ref = substitute(stage.from, vars);
    if (ref === undefined || ref === '') return { stage: built, name: undefined, unresolved: true };
    const lower = ref.toLowerCase();
    const earlier = parsed.stages.find((s) => s.index < stage.index && s.name === lower);
    if (earlier) {
      stage = earlier;
      continue;
    }
    return { stage: built, name: lower === 'scratch' ? undefined : ref, unresolved: false };
  }
  return { stage: built, name: undefined, unresolved: true };
}

/**
 * The Dockerfile with `lines` added at the end of the built stage (before the next FROM, or at
 * the end of the file), so they run in the stage that becomes the image.
 */
export function appendToStage(text: string, stage: DockerfileStage, lines: readonly string[]): string {
  const physical = text.replace(/\r\n?/g, '\n').split('\n');
  const at = stage.endLine + 1;
  const before = physical.slice(0, at);
  const after = physical.slice(at);
  return [...before, ...lines, ...after].join('\n').replace(/\n*$/, '\n');
}
