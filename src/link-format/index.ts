/**
 * @module link-format
 * The CoRE Link Format codec (RFC 6690 §2) and query filtering (RFC 6690 §4.1): pure functions
 * from text to links and back, with no I/O.
 */

export { LinkFormatError } from './error.js';
export { filterLinks, linkAttribute, matchesFilter } from './filter.js';
export { formatLinks } from './format.js';
export { parseLinks } from './parse.js';
export type { Link } from './types.js';
