import { Option, type Command } from 'commander';
import { CONFD_BOOL_FLAGS } from './confd-flags.js';
import { whenDeclared, type Register } from './register.js';
import { templateOptions } from './template-options.js';

/**
 * Declares the `template` commands (options and help only; commander is the only import, so that
 * `kiboko --help` stays fast). The action lazy-loads ./template.js.
 */
export function defineTemplateCommands(program: Command, register: Register): void {
  const cmd = program
    .command('template')
    .summary('render confd template resources from env, file or etcd; check, replace atomically, reload, restore on failure')
    .description(
      'Render confd-format template resources (<confdir>/conf.d/*.toml with templates/) from the env, file (YAML/JSON) or etcd v3 backend. ' +
        'A changed file is staged beside its destination, checked with check_cmd, renamed into place, and reload_cmd runs; ' +
        'a failing reload puts the previous file back and reloads again. With --container the files are written into running ' +
        'containers through the Engine API (check and reload run inside them; no agent in the image).',
    );
  register(cmd, templateOptions(), async (o) => (await import('./template.js')).runTemplateCommand(o));
  // confd's boolean flags take Go's `-flag=false`; these carry the false (declared after the flags, so they set no default).
  whenDeclared(cmd, () => {
    for (const name of CONFD_BOOL_FLAGS) cmd.addOption(new Option(`--no-${name}`).hideHelp());
  });
}

export { CONFD_BOOL_FLAGS, CONFD_VALUE_FLAGS, normalizeConfdFlags } from './confd-flags.js';
