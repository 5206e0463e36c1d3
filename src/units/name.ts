/** systemd unit name rules as fleet enforces them (`unit.ValidateName`). */
const SUFFIXES = ['service', 'socket', 'timer', 'path', 'mount', 'automount', 'busname', 'device', 'scope', 'slice', 'snapshot', 'swap', 'target'];
const TEMPLATE_SUFFIXES = ['path', 'service', 'socket', 'target', 'timer'];

export function unitNameError(name: string): string | undefined {
  if (name.length === 0) return 'unit name is empty';
  if (name.length > 256) return 'unit name exceeds 256 characters';
  if (!/^[A-Za-z0-9:_.@-]+$/.test(name)) return `unit name ${name} contains invalid characters`;
  if (name.startsWith('@')) return `unit name ${name} starts with @`;
  const dot = name.lastIndexOf('.');
  const suffix = dot < 0 ? '' : name.slice(dot + 1);
  if (!SUFFIXES.includes(suffix)) return `unit name ${name} has an invalid unit type suffix`;
  if (isTemplate(name) && !TEMPLATE_SUFFIXES.includes(suffix)) return `template unit ${name} must be one of ${TEMPLATE_SUFFIXES.join(', ')}`;
  return undefined;
}

/** `foo@.service` is a template; `foo@1.service` an instance of it. */
export const isTemplate = (name: string): boolean => /@\.[a-z]+$/.test(name);

/** The template an instance comes from: `app@1.service` → `app@.service`; undefined for other names. */
export function templateOf(name: string): string | undefined {
  const m = /^([^@]+)@(.+)\.([a-z]+)$/.exec(name);
  if (!m || isTemplate(name)) return undefined;
  return `${m[1]}@.${m[3]}`;
}

/**
 * fleet's order of units and unit states: Go's string order (bytes), e.g. `B.service` before
 * `a.service` and `a-b` before `a.b` — not the locale's. Unit names are ASCII, so comparing UTF-16
 * code units (`<`) is comparing bytes.
 */
export const compareUnitNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
