/**
 * @module entry/client
 * The package's `coap-group/client` entry: the client alone (RFC 7252 §5 requests, RFC 7390
 * §2.5 group requests, RFC 7641 observations, RFC 7959 block-wise transfer) with what its users
 * need beside it (entry/common). A program that only sends requests loads this part of the
 * package, not the server, the group configuration, OSCORE or the resource directory. The
 * package's root gives the same names.
 */
export { BlockTransferError } from '../client/block-transfer-error.js';
export type { RequestOptions, ResponseClass } from '../client/build.js';
export { type ClientOptions, CoapClient, type UnicastRequestOptions } from '../client/client.js';
export type {
  ExchangeKind,
  ExchangeRequest,
  Exchanger,
  ExchangerLayer,
  LayerContext,
  MessageParts,
  ResponseStream,
  Screen,
  SendListener,
  StreamSink,
} from '../client/exchanger.js';
export {
  type GroupRequestOptions,
  GroupResponse,
  GroupResponses,
  type GroupSummary,
} from '../client/group.js';
export { Observation, type ObserveRequestOptions } from '../client/observe.js';
export { ProxyAnswerError } from '../client/proxy-answer-error.js';
export { type Resolver, resolveHost, systemResolver } from '../client/resolve.js';
export { CoapResponse } from '../client/response.js';
export { parseRequestUri } from '../client/scheme.js';
export {
  DEFAULT_PROXY_OPTION_NUMBERS,
  DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS,
  type ProxyOptionNumbers,
  proxyOptionNumbers,
} from '../options/proxy-numbers.js';
export type { CoapScheme, CoapUri } from '../uri/types.js';
export * from './common.js';
