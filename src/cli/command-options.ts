import { Option, type Command } from 'commander';

/**
 * Options as tables. A command declares its options once, as data keyed by the name commander
 * stores them under; the commander `Option`s (and so the help text) and the TypeScript type of
 * what the command reads both come from that table, and the values are checked against it once,
 * when the command's action starts. Commander is the only import, so defining the tree stays cheap;
 * and a group's tables are built by a function its define-*.ts calls, so that `kiboko chaos kill`
 * builds (and V8 compiles) no deploy or units table.
 */

/** What commander stores for an option: a switch, one value, every value of a repeatable one, or a value that may be left out. */
export type OptionKind = 'flag' | 'value' | 'list' | 'optional';

/** A `--no-X` declared right after `--X`: with its own help line, or hidden. */
export type Negation = { readonly help: string } | { readonly hidden: true };

export interface OptionSpec<K extends OptionKind = OptionKind> {
  readonly kind: K;
  readonly flags: string;
  readonly description: string;
  readonly hidden?: boolean;
  readonly local?: boolean;
  readonly inherited?: boolean;
  readonly negation?: Negation;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

type Stored<S> = S extends OptionSpec<'flag'> ? boolean : S extends OptionSpec<'list'> ? string[] : S extends OptionSpec<'optional'> ? string | true : string;
/** What a command reads for one option: a negatable one may also be false. */
type ValueOf<S> = S extends { readonly negation: Negation } ? Stored<S> | false : Stored<S>;

/** The options a command reads, typed from its table; absent ones are undefined. */
export type OptionsOf<T extends OptionTable> = { readonly [K in keyof T]?: ValueOf<T[K]> };

/**
 * `hidden`: left out of help; `local`: read from the command itself only (a global option has its
 * name too); `inherited`: declared by an ancestor (the program's --state-dir), only read here.
 */
type Extra = { readonly hidden?: boolean; readonly local?: boolean; readonly inherited?: boolean };

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** The options of all the tables in `T` at once, for code several commands share (each one's own type is a part of it). */
export type EveryOptionOf<T extends Readonly<Record<string, OptionTable>>> = UnionToIntersection<{ [K in keyof T]: OptionsOf<T[K]> }[keyof T]>;

/** A switch (`--dry-run`, or `--no-legend`, which is stored as `legend`). */
export const flag = (flags: string, description: string, extra?: Extra): OptionSpec<'flag'> => ({ kind: 'flag', flags, description, ...extra });
/** An option with one value (`--project <name>`): the last use wins. */
export const value = (flags: string, description: string, extra?: Extra): OptionSpec<'value'> => ({ kind: 'value', flags, description, ...extra });
/** A repeatable option (`--file <path>`): each use adds its value. */
export const list = (flags: string, description: string, extra?: Extra): OptionSpec<'list'> => ({ kind: 'list', flags, description, ...extra });
/** An option whose value may be left out (`--fleet-socket [path]`): true then. */
export const optional = (flags: string, description: string, extra?: Extra): OptionSpec<'optional'> => ({ kind: 'optional', flags, description, ...extra });
/** `spec` as an ancestor declares it: read by this command, not declared on it again. */
export const inherited = <S extends OptionSpec>(spec: S) => ({ ...spec, inherited: true });
/** `spec` with a `--no-X` right after it (its value may then be false). */
export const negatable = <S extends OptionSpec>(spec: S, negation: Negation) => ({ ...spec, negation });

/** Commander's argParser for a repeatable option: each use adds its value. */
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Declares a table's options on a command, in the table's order (which is the order help lists them in). */
export function addOptions(cmd: Command, table: OptionTable): Command {
  for (const [key, spec] of Object.entries(table)) {
    if (spec.inherited) continue;
    const option = new Option(spec.flags, spec.description);
    // The key is what the command reads: it must be the name commander stores the value under.
    if (option.attributeName() !== key) throw new Error(`option table of '${cmd.name()}': ${spec.flags} is stored as ${option.attributeName()}, not ${key}`);
    // A variadic option (`--container <targets...>`) collects its values itself.
    if (spec.kind === 'list' && !option.variadic) option.argParser(collect);
    if (spec.hidden) option.hideHelp();
    cmd.addOption(option);
    if (spec.negation) {
      const no = new Option(`--no-${option.name()}`, 'help' in spec.negation ? spec.negation.help : undefined);
      if ('hidden' in spec.negation) no.hideHelp();
      cmd.addOption(no);
    }
  }
  return cmd;
}

/** Engine connection flags, as the docker CLI and Pumba spell them. */
export const ENGINE_OPTIONS = {
  host: value('-H, --host <host>', 'engine address: unix:///var/run/docker.sock or tcp://HOST:PORT (env DOCKER_HOST)'),
  tls: flag('--tls', 'use TLS (implied by --tlsverify)'),
  tlsverify: flag('--tlsverify', 'use TLS and verify the engine (env DOCKER_TLS_VERIFY)'),
  tlscacert: value('--tlscacert <path|pem>', 'CA certificate (default $DOCKER_CERT_PATH/ca.pem)'),
  tlscert: value('--tlscert <path|pem>', 'client certificate (default $DOCKER_CERT_PATH/cert.pem)'),
  tlskey: value('--tlskey <path|pem>', 'client key (default $DOCKER_CERT_PATH/key.pem)'),
  stateDir: value('--state-dir <dir>', 'where the restore journal lives (env KIBOKO_STATE_DIR; default ~/.local/state/kiboko)'),
};
export type EngineOptions = OptionsOf<typeof ENGINE_OPTIONS>;

/** `--label`, as the commands that pick running containers by their labels take it. */
export const labelFilterOption = () => list('--label <key=value>', 'only containers with this label (repeatable, AND; or k1=v1,k2=v2)');
