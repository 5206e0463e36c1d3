/**
 * The located tree a compose file is read into (./yaml.ts): every node knows its file, line and
 * key path. Its own file so both readers (the full YAML parser and the fast one for plain files,
 * ./yaml-plain.ts) build the same shapes without importing each other.
 */
import type { Loc } from './problems.js';

export type Prim = string | number | boolean | null;
export interface ScalarNode {
  kind: 'scalar';
  value: Prim;
  /** Source text of a non-string scalar (`0755`, `1.0`), which environment values keep as written. */
  raw?: string | undefined;
  loc: Loc;
  tag?: string | undefined;
  /** Variables interpolated into this value, so a type error can name them. */
  vars?: readonly string[] | undefined;
}
export interface SeqNode {
  kind: 'seq';
  items: Node[];
  loc: Loc;
  tag?: string | undefined;
}
export interface MapNode {
  kind: 'map';
  entries: Map<string, Entry>;
  loc: Loc;
  tag?: string | undefined;
}
export type Node = ScalarNode | SeqNode | MapNode;
export interface Entry {
  key: string;
  keyLoc: Loc;
  value: Node;
}

export const childPath = (parent: string, key: string) => {
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  return parent === '' ? k : k.startsWith('[') ? `${parent}${k}` : `${parent}.${k}`;
};
export const itemPath = (parent: string, i: number) => `${parent}[${i}]`;
