/**
 * @module entry/oscore
 * The package's `coap-group/oscore` entry: all of OSCORE (RFC 8613) and Group OSCORE
 * (draft-ietf-core-oscore-groupcomm). The primitives over messages (context derivation, the
 * OSCORE option, COSE structures, CBOR, protection and verification, replay windows and
 * sequence numbers, group contexts, countersignatures and pairwise keys) and the endpoint layer
 * around the client and server that the package's root also gives (key files, keyrings,
 * `OscoreClientSecurity`, `OscoreServerSecurity`).
 */
export * from '../oscore/endpoint/index.js';
export * from '../oscore/group/index.js';
export * from '../oscore/index.js';
