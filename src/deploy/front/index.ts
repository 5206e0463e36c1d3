export { FRONT_SCRIPT } from './proxy-script.js';
export { FRONT_IMAGE, ensureFrontImage, frontName, ensureFront, setUpstreams, drain, removeFront, frontPorts, type Front } from './front.js';
