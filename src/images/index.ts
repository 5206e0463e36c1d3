export { buildHostToolsImage, NETTOOLS_IMAGE, STRESS_IMAGE, type HostToolsImage } from './host-tools.js';
export { ensureBusyboxImage, BUSYBOX_IMAGE } from './busybox.js';
