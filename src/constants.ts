/**
 * @module constants
 * RFC constants and the times derived from them. Every value cites its section.
 * Transmission parameters can be overridden per endpoint (see `TransmissionParameters`);
 * these frozen values are only the defaults.
 */

/** RFC 7252 §7.1: default UDP port for `coap`. */
export const COAP_PORT = 5683;
/** RFC 7252 §7.1: default port for `coaps`; RFC 7390 §5.1 and groupcomm-bis forbid it for groups. */
export const COAPS_PORT = 5684;

/** RFC 7252 §12.8, RFC 7390 §2.2: All CoAP Nodes, IPv4. */
export const ALL_COAP_NODES_IPV4 = '224.0.1.187';
/** RFC 7252 §12.8, RFC 7390 §2.2: All CoAP Nodes, IPv6 link-local scope. */
export const ALL_COAP_NODES_IPV6_LINK = 'ff02::fd';
/** RFC 7252 §12.8, RFC 7390 §2.2: All CoAP Nodes, IPv6 site-local scope. */
export const ALL_COAP_NODES_IPV6_SITE = 'ff05::fd';

/** RFC 7252 §4.8: transmission parameters. */
export interface TransmissionParameters {
  /** Seconds before the first retransmission of a CON (RFC 7252 §4.8: >= 1 s). */
  readonly ackTimeout: number;
  /** Random spread of the initial timeout (RFC 7252 §4.8: >= 1.0). */
  readonly ackRandomFactor: number;
  /** Retransmissions of a CON before giving up. */
  readonly maxRetransmit: number;
  /** Outstanding interactions per server, and per group (groupcomm-bis §3.6.1). */
  readonly nstart: number;
  /** Seconds a multicast responder waits at most before answering (RFC 7252 §8.2). */
  readonly defaultLeisure: number;
  /** Bytes per second towards an endpoint that does not answer (RFC 7252 §4.7). */
  readonly probingRate: number;
  /** RFC 7252 §4.8.2: fixed maximum datagram latency, seconds. */
  readonly maxLatency: number;
}

/** RFC 7252 §4.8 defaults. */
export const DEFAULT_TRANSMISSION: TransmissionParameters = Object.freeze({
  ackTimeout: 2,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
  defaultLeisure: 5,
  probingRate: 1,
  maxLatency: 100,
});

/** Times derived from transmission parameters, all in seconds (RFC 7252 §4.8.2). */
export interface DerivedTimes {
  readonly maxTransmitSpan: number;
  readonly maxTransmitWait: number;
  readonly processingDelay: number;
  readonly maxRtt: number;
  readonly exchangeLifetime: number;
  readonly nonLifetime: number;
}

/** RFC 7252 §4.8.2: the derived times for a set of parameters. */
export function deriveTimes(p: TransmissionParameters): DerivedTimes {
  const maxTransmitSpan = p.ackTimeout * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
  const maxTransmitWait = p.ackTimeout * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
  const processingDelay = p.ackTimeout;
  const maxRtt = 2 * p.maxLatency + processingDelay;
  const exchangeLifetime = maxTransmitSpan + 2 * p.maxLatency + processingDelay;
  const nonLifetime = maxTransmitSpan + p.maxLatency;
  return Object.freeze({
    maxTransmitSpan,
    maxTransmitWait,
    processingDelay,
    maxRtt,
    exchangeLifetime,
    nonLifetime,
  });
}

/** RFC 7252 §4.8.2 with the defaults: 45, 93, 2, 202, 247 and 145 seconds. */
export const DEFAULT_TIMES: DerivedTimes = deriveTimes(DEFAULT_TRANSMISSION);

/** groupcomm-bis §3.6.1: DEFAULT_LEISURE for a Group OSCORE group in group mode (S = 200). */
export const DEFAULT_LEISURE_GROUP_OSCORE = 20;
/** groupcomm-bis §3.6.1: DEFAULT_LEISURE for a Group OSCORE group using pairwise mode only (S = 130). */
export const DEFAULT_LEISURE_PAIRWISE_OSCORE = 13;

/** RFC 7252 §5.3.1, RFC 7390 §2.5: group requests use random tokens of at least 4 bytes. */
export const GROUP_TOKEN_LENGTH = 8;
/** RFC 7252 §5.3.1: a token is 0 to 8 bytes. */
export const MAX_TOKEN_LENGTH = 8;

/** RFC 7252 §4.6: the largest message without fragmentation when nothing is known of the path MTU. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1152;
/** RFC 7252 §4.6: the payload size that fits `DEFAULT_MAX_MESSAGE_SIZE`. */
export const DEFAULT_MAX_PAYLOAD = 1024;

/** RFC 7390 §2.6.2.2: the recommended path of the group configuration resource. */
export const GROUP_CONFIG_PATH = 'coap-group';
/** RFC 7390 §6.1: resource type of the group configuration resource. */
export const GROUP_CONFIG_RT = 'core.gp';
