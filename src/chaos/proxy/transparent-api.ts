import type { Journal } from '../../journal/index.js';
import type { ToxiproxyApiOptions } from '../../proxy/index.js';

/**
 * The toxiproxy API's view of the state directory's chaos proxy faults: listed, toxics and
 * `enabled` changeable. ./list.js (and the proxy and control code behind it) is loaded on the
 * first call: the chaos commands that only import this door start without it.
 */
export function transparentProxyApi(journal: Journal): Pick<ToxiproxyApiOptions, 'extra' | 'setExtraToxics' | 'setExtraEnabled'> {
  const list = () => import('./list.js');
  return {
    extra: async () => (await list()).transparentProxies(journal),
    setExtraToxics: async (name, toxics) => (await list()).setTransparentToxics(journal, name, toxics),
    setExtraEnabled: async (name, enabled) => (await list()).setTransparentEnabled(journal, name, enabled),
  };
}
