export { handleFleet, fleetError, unitHash, optionsError, discoveryDocument, DESIRED_STATES } from './api.js';
export type { DesiredState, FleetUnit, FleetRequest, FleetResponse, Machine, UnitOption, UnitRegistry, UnitStateRecord } from './api.js';
export { unitNameError, isTemplate } from './name.js';
export { encodePageToken, decodePageToken, paginate, TOKEN_LIMIT } from './pagination.js';
export { MemoryRegistry } from './memory.js';
