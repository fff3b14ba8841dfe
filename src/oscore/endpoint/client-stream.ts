/**
 * @module oscore/endpoint/client-stream
 * A protected stream to one server: an Observe registration (RFC 8613 §8.1, §4.1.3.5) and its
 * notifications. Each registration is protected anew, and the notifications are opened with
 * the latest one's binding (older ones fail verification and are discarded, §7.4.1). A
 * verified 4.01 with Echo is answered once, by registering again with the Echo value on the
 * same token (RFC 9175 §2.4). The deregistration is protected too, or not sent (RFC 7641 §3.6:
 * the observation then lapses). Where the protection allows plaintext to the server, what it
 * returns as is goes as is; each later request asks the protection again.
 */
import type { ExchangeRequest, Exchanger, ResponseStream, StreamSink } from '../../client/exchanger.js';
import type { CoapMessage } from '../../message/types.js';
import type { Address } from '../../transport/types.js';
import type { MessageParts, SecuredKind, SecuredRequest } from './client-protection.js';

type Protect = (parts: MessageParts, dest: Address, kind: SecuredKind) => SecuredRequest | undefined;

/**
 * Starts `x` through `inner`, protected with `protect`; `outer` is the exchanger that continues
 * a notification's body. @throws what `protect` throws: nothing is sent.
 */
export function oneServerStream(
  inner: Exchanger,
  x: ExchangeRequest,
  sink: StreamSink,
  protect: Protect,
  outer: Exchanger,
): ResponseStream {
  const kind = x.kind;
  let current = protect(x.parts, x.dest, kind);
  let echoed = false;
  /** Sends `parts` again on the stream, protected anew; the new binding opens what follows. */
  const again = (
    parts: MessageParts,
    dest: Address,
    confirmable: boolean,
    onError?: (err: Error) => void,
  ) => {
    const secured = protect(parts, dest, kind);
    current = secured;
    stream.resend(secured?.parts ?? parts, dest, confirmable, onError);
  };
  const stream = inner.stream(
    { ...x, parts: current?.parts ?? x.parts },
    {
      response: (raw: CoapMessage, remote: Address) => {
        const secured = current;
        if (secured === undefined) return sink.response(raw, remote);
        let opened: CoapMessage | undefined;
        try {
          opened = secured.open(raw, remote);
        } catch (err) {
          sink.error(err as Error);
          return;
        }
        if (opened === undefined) return;
        // RFC 9175 §2.4: a 4.01 with Echo is answered by registering again with the Echo, once.
        const retry = echoed ? undefined : secured.retry?.(opened);
        if (retry === undefined) return sink.response(opened, remote);
        echoed = true;
        try {
          again(retry, x.dest, x.confirmable);
        } catch (err) {
          sink.error(err as Error);
        }
      },
      error: (err) => sink.error(err),
      end: (err) => sink.end(err),
    },
  );
  return {
    token: stream.token,
    size: stream.size,
    leisure: stream.leisure,
    resend: again,
    sendLast(parts: MessageParts, dest: Address): Promise<void> {
      let wire: MessageParts;
      try {
        wire = protect(parts, dest, kind)?.parts ?? parts;
      } catch {
        // Not protectable now (e.g. sequence numbers exhausted): not sent.
        return Promise.resolve();
      }
      return stream.sendLast(wire, dest);
    },
    followUpExchanger: () => outer,
    close: (quarantine) => stream.close(quarantine),
  };
}
