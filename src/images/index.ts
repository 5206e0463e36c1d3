export { buildHostToolsImage, sharedLibraries, NETTOOLS_IMAGE, STRESS_IMAGE, type HostToolsImage } from './host-tools.js';
export { ensureBusyboxImage, findStaticBusybox, BUSYBOX_IMAGE } from './busybox.js';
