/** Whether a command line asks for help, which lists every command: the whole tree, from the whole CLI's bundle. */
export const wantsHelp = (args: readonly string[]): boolean => args.some((a) => a === '--help' || a === '-h' || a === 'help');
