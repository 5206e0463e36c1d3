/**
 * A table's entry for a key from user input (a compose key, a unit option name), or undefined:
 * only the table's own keys count, so `constructor` or `__proto__` is an unknown key, not a
 * property of Object's prototype.
 */
export function own<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
