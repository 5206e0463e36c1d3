import { describe, expect, it } from 'vitest';
import { envBackend, envKey, envValues, envVarName } from './env.js';

describe('env backend (confd mapping)', () => {
  it('maps keys to variable names and back', () => {
    expect(envVarName('/services/example/text')).toBe('SERVICES_EXAMPLE_TEXT');
    expect(envKey('SERVICES_EXAMPLE_TEXT')).toBe('/services/example/text');
    expect(envVarName('nginx/port')).toBe('NGINX_PORT');
  });

  it('selects every variable starting with the mapped key, lower-cased back', () => {
    const env = { SERVICES_EXAMPLE_TEXT: 'hello', SERVICES_EXAMPLE_COUNT: '3', SERVICESX: 'x', OTHER: 'o', services_example_low: 'ignored-case' };
    const got = envValues(['/services/example'], env);
    expect(Object.fromEntries(got)).toEqual({ '/services/example/text': 'hello', '/services/example/count': '3' });
    // confd's prefix match is on the variable name, so /services also picks SERVICESX.
    expect(Object.fromEntries(envValues(['/services'], env))).toMatchObject({ '/servicesx': 'x' });
  });

  it('underscores in names become path separators (as in confd)', async () => {
    const b = envBackend({ APP_DB_HOST_NAME: 'db' });
    expect(Object.fromEntries(await b.getValues(['/app/db']))).toEqual({ '/app/db/host/name': 'db' });
    expect(b.watch).toBeUndefined();
  });
});
