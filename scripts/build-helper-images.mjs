// Builds kiboko's helper images locally, FROM scratch, from this host's binaries (no registry
// needed): kiboko/nettools:local (tc, ip, iptables, nft) and kiboko/stress-ng:local.
import { connectEngine } from '../dist/lib/engine/index.js';
import { buildHostToolsImage, NETTOOLS_IMAGE, STRESS_IMAGE } from '../dist/lib/images/index.js';

const engine = await connectEngine();
const which = process.argv.slice(2);
for (const spec of [NETTOOLS_IMAGE, STRESS_IMAGE]) {
  if (which.length && !which.some((w) => spec.tag.includes(w))) continue;
  process.stdout.write(`building ${spec.tag} … `);
  await buildHostToolsImage(engine, spec);
  process.stdout.write('done\n');
}
