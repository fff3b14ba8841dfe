/**
 * @module entry/rd
 * The package's `coap-group/rd` entry: the resource directory (RFC 9176) with groups (its
 * Appendix A), whole: besides what the package's root gives (attaching a directory, registering
 * a node, joining the groups a directory lists), its paths, limits, stores and journal, and the
 * commissioning-tool policy.
 */
export * from '../rd/index.js';
