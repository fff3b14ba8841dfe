/**
 * @module http-gateway
 * The HTTP-to-CoAP gateway (RFC 8075 and groupcomm-proxy §9): its class, options, limits and the
 * JSON shapes of its group answers (docs/proxy.md, "HTTP gateway").
 */
export type { ConsoleConfigJson } from './console.js';
export type { GatewayConsoleOptions } from './console-options.js';
export { coreHcLink } from './discovery.js';
export type { GroupResultJson, GroupSummaryJson, MemberResponseJson, SummaryReason } from './envelope.js';
export { type GatewayAddress, HttpGateway, startHttpGateway } from './gateway.js';
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type GatewayRate } from './limits.js';
export type { HttpGatewayOptions } from './options.js';
export type { GatewayGroupAccess } from './policy.js';
export { COAP_CODE_HEADER } from './unicast.js';
