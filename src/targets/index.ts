export { parseTargetArgs, parseLabelFilters, compileRegex, selectsEverything, REGEX_PREFIX, type TargetQuery } from './query.js';
export { planSelection, selectTargets, type Selection, type SelectionOptions, type SkippedContainer } from './select.js';
export { ownContainerId } from './self.js';
export { closeNames } from './suggest.js';
