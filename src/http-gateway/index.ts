/**
 * @module http-gateway
 * The HTTP-to-CoAP gateway (RFC 8075 and groupcomm-proxy §9): its class, options, limits and the
 * JSON shapes of its group answers.
 */
export type { HttpAnswer } from './answer.js';
export { coreHcLink } from './discovery.js';
export type {
  Envelope,
  GroupResultJson,
  GroupSummaryJson,
  MemberResponseJson,
  SummaryReason,
} from './envelope.js';
export { type GatewayAddress, HttpGateway, startHttpGateway } from './gateway.js';
export { DEFAULT_GATEWAY_LIMITS, type GatewayLimits, type Rate } from './limits.js';
export type { HttpGatewayOptions } from './options.js';
export type { GroupAccess } from './policy.js';
export { memberCri, replyFromHeader } from './reply-from.js';
