import { parseTemplate } from './gotemplate/index.js';
import { confdFuncs } from './funcs.js';
import type { KvSnapshot } from './keys.js';
import type { TemplateResource } from './resource.js';
import type { Renderer } from './run.js';
import { basename } from 'node:path';

/**
 * confd's rendering: the template is parsed under its file's base name with confd's function
 * map bound to the resource's key/value snapshot, and executed with no data (`tmpl.Execute(w, nil)`: `{{.}}` prints <no value>).
 */
export function renderText(name: string, text: string, snapshot: KvSnapshot): string {
  return parseTemplate(name, text, confdFuncs(snapshot)).execute();
}

export const renderWithGoTemplate: Renderer = (resource: TemplateResource, text: string, snapshot: KvSnapshot) => renderText(basename(resource.src), text, snapshot);
