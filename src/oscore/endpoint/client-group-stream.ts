/**
 * @module oscore/endpoint/client-group-stream
 * A protected group request and its responses (Group OSCORE, draft-ietf-core-oscore-groupcomm
 * §7.1, §7.4): protected once, each responder's answer opened on its own; one that fails
 * verification is discarded and the other members' answers still count.
 *
 * A member that cannot yet tell the request is fresh (its replay window for this client is not
 * valid, e.g. after it restarted) answers with a protected 4.01 carrying Echo; that member, and
 * only it, is then sent the request again with the Echo value, by unicast (draft §10, RFC 9175
 * §2.4). The follow-up carries the group request's token, so its response (and, for an
 * observation, every later notification) joins the same stream; it is opened with the
 * follow-up's own protection. One follow-up per member at most: a second challenge goes up as
 * it is. Whatever else goes to one responder by unicast (the rest of a block-wise body, a
 * deregistration) is protected for the member its verified answer proved it is, or not sent.
 *
 * Through a proxy (draft-ietf-core-groupcomm-proxy §5.5.1) each response already comes as its
 * member's (Reply-From), so all of the above holds per member. The Echo follow-up then goes
 * through the proxy as a request of its own, with the member's URI in Proxy-Uri and a fresh
 * token: the group request's token names the proxy's forwarding, whose reuse the proxy refuses
 * (groupcomm-bis §3.5.2); its verified answer is handed up as the member's. The proxy's own
 * answers (no Reply-From) are passed up unopened: the proxy holds no group keys.
 */
import type { ExchangeRequest, Exchanger, ResponseStream, StreamSink } from '../../client/exchanger.js';
import { aimAtMember } from '../../client/proxy-route.js';
import { InvalidArgumentError } from '../../errors.js';
import type { CoapMessage } from '../../message/types.js';
import type { ProxyOptionNumbers } from '../../options/proxy-numbers.js';
import type { Address } from '../../transport/types.js';
import { peerKey } from '../../util/peer-key.js';
import type { MessageParts, SecuredRequest } from './client-protection.js';
import { isNotification } from './parts.js';

/** A response that fails verification is discarded; the other members' responses still count. */
function openQuietly(secured: SecuredRequest, msg: CoapMessage, remote: Address): CoapMessage | undefined {
  try {
    return secured.open(msg, remote);
  } catch {
    return undefined;
  }
}

/**
 * Starts the protected group request `secured` (the protection of `x`) through `inner`;
 * `followUp` gives the exchanger for unicast requests to one responder.
 */
export function groupStream(
  inner: Exchanger,
  x: ExchangeRequest,
  sink: StreamSink,
  secured: SecuredRequest,
  followUp: (remote: Address) => Exchanger,
  numbers: ProxyOptionNumbers,
): ResponseStream {
  const kind = isNotification(x.parts) ? 'observe' : 'unicast';
  /** The protection of the follow-up sent to each member, whose responses it opens. */
  const byMember = new Map<string, SecuredRequest>();
  const forMember = (parts: MessageParts, remote: Address): SecuredRequest | undefined =>
    secured.forResponder?.(parts, { address: remote.address, port: remote.port }, kind);
  /**
   * Sends the challenged request to `remote` alone. False when nothing was sent (one follow-up
   * already went, or it could not be protected or sent). Never throws: it runs on the receive path.
   */
  const challenged = (parts: MessageParts, remote: Address): boolean => {
    const key = peerKey(remote);
    if (byMember.has(key)) return false;
    if (x.proxy !== undefined) return throughProxy(parts, remote);
    try {
      const member = forMember(parts, remote);
      if (member === undefined) return false;
      // A lost follow-up is a lost NON: nothing to report.
      stream.resend(member.parts, remote, false, () => {});
      byMember.set(key, member);
      return true;
    } catch {
      // E.g. no Sender Sequence Number left, or the client is closing.
      return false;
    }
  };
  /** The follow-up through the proxy: a request of its own, whose verified answer is the member's. */
  const throughProxy = (parts: MessageParts, remote: Address): boolean => {
    const member: Address = { address: remote.address, port: remote.port };
    let aimed: MessageParts;
    try {
      aimed = aimAtMember(parts, member, numbers);
    } catch {
      return false;
    }
    // Marks the member as followed up (one at most); its answer comes back on another token.
    byMember.set(peerKey(member), secured);
    followUp(member)
      .request({ dest: member, proxy: x.proxy, parts: aimed, kind: 'unicast', confirmable: true })
      .then(
        (opened) => sink.response(opened, member),
        () => {
          // Lost, or refused by the member or the proxy: that member's answer is missing, as a lost NON's would be.
        },
      );
    return true;
  };
  const stream = inner.stream(
    { ...x, parts: secured.parts },
    {
      response: (raw, remote) => {
        const via = byMember.size === 0 ? undefined : byMember.get(peerKey(remote));
        const opened = openQuietly(via ?? secured, raw, remote);
        if (opened === undefined) return;
        // Draft §10: a member's Echo challenge is answered by unicast, once.
        const retry = via === undefined ? secured.retry?.(opened) : undefined;
        if (retry === undefined || !challenged(retry, remote)) sink.response(opened, remote);
      },
      ...(sink.proxyAnswer !== undefined
        ? { proxyAnswer: (msg: CoapMessage, proxy: Address) => sink.proxyAnswer!(msg, proxy) }
        : {}),
      error: (err) => sink.error(err),
      end: (err) => sink.end(err),
    },
  );
  return {
    token: stream.token,
    size: stream.size,
    leisure: secured.leisure,
    multicastTimeout: stream.multicastTimeout,
    resend(parts, dest, confirmable, onError) {
      const member = forMember(parts, dest);
      if (member === undefined)
        throw new InvalidArgumentError(`no verified member answered from ${dest.address}`);
      stream.resend(member.parts, dest, confirmable, onError);
      byMember.set(peerKey(dest), member);
    },
    sendLast(parts, dest) {
      let member: SecuredRequest | undefined;
      try {
        member = secured.forResponder?.(parts, dest, 'unicast');
      } catch {
        member = undefined; // closing, or no Sequence Number left: the observation lapses
      }
      // Never in the clear: the observation's options are confidential.
      return member === undefined ? Promise.resolve() : stream.sendLast(member.parts, dest);
    },
    followUpExchanger: followUp,
    close: (quarantine) => stream.close(quarantine),
  };
}
