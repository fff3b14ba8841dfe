/**
 * Properties of the message codec (RFC 7252 §3): messages built from valid parts survive
 * encode/decode with options in number order, and decoding any bytes either returns a message
 * or throws MessageFormatError, never anything else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MessageFormatError } from '../../src/errors.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, type CoapOption, MessageType } from '../../src/message/types.js';
import { optionDefinition, registeredOptions } from '../../src/options/registry.js';

/** Decodes and accepts a result or a MessageFormatError; any other throw fails the property. */
function decodesOrFormatError(bytes: Buffer): CoapMessage | undefined {
  try {
    return decodeMessage(bytes);
  } catch (e) {
    assert.ok(e instanceof MessageFormatError, `threw ${String(e)}`);
    assert.equal(e.code, 'ERR_COAP_MESSAGE_FORMAT');
    assert.ok(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= bytes.length, `offset ${e.offset}`);
    return undefined;
  }
}

const bytes = (maxLength: number, minLength = 0) =>
  fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a));

/** An option registered in RFC 7252 & co., with a value length inside its range. */
const registeredOption: fc.Arbitrary<CoapOption> = fc
  .constantFrom(...registeredOptions())
  .chain((d) => bytes(Math.min(d.maxLength, 300), d.minLength).map((value) => ({ number: d.number, value })));

/** Any unregistered option number, with values that exercise all three length forms. */
const unregisteredOption: fc.Arbitrary<CoapOption> = fc
  .record({
    number: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 65535 })),
    value: fc.oneof({ weight: 4, arbitrary: bytes(20) }, { weight: 1, arbitrary: bytes(300) }),
  })
  .filter((o) => optionDefinition(o.number) === undefined);

const option = fc.oneof(registeredOption, unregisteredOption);

const type = fc.constantFrom(MessageType.CON, MessageType.NON, MessageType.ACK, MessageType.RST);
const messageId = fc.integer({ min: 0, max: 0xffff });

/** A non-empty message: any code but 0.00, with token, options and payload. */
const fullMessage: fc.Arbitrary<CoapMessage> = fc.record({
  type,
  code: fc.integer({ min: 1, max: 255 }),
  messageId,
  token: bytes(8),
  options: fc.array(option, { maxLength: 8 }),
  payload: fc.oneof(bytes(0, 0), bytes(200, 1)),
});

/** An Empty message (RFC 7252 §4.1): header only. */
const emptyMessage: fc.Arbitrary<CoapMessage> = fc.record({
  type,
  code: fc.constant(0),
  messageId,
  token: bytes(0, 0),
  options: fc.constant([]),
  payload: bytes(0, 0),
});

const anyMessage = fc.oneof({ weight: 9, arbitrary: fullMessage }, { weight: 1, arbitrary: emptyMessage });

/** A comparable form: options stable-sorted by number, buffers as hex. */
function normal(m: CoapMessage) {
  const options = m.options
    .map((o, i) => ({ o, i }))
    .sort((a, b) => a.o.number - b.o.number || a.i - b.i)
    .map(({ o }) => [o.number, o.value.toString('hex')]);
  return {
    type: m.type,
    code: m.code,
    messageId: m.messageId,
    token: m.token.toString('hex'),
    options,
    payload: m.payload.toString('hex'),
  };
}

describe('codec properties', () => {
  it('round-trips any message built from valid parts, with options in number order', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const wire = encodeMessage(m);
        const back = decodeMessage(wire);
        assert.deepEqual(normal(back), normal(m));
        for (let i = 1; i < back.options.length; i++) {
          assert.ok(back.options[i - 1]!.number <= back.options[i]!.number);
        }
        assert.deepEqual(encodeMessage(back), wire, 're-encoding the decoded message gives the same bytes');
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes arbitrary bytes to a message or a MessageFormatError, never anything else', () => {
    fc.assert(
      fc.property(bytes(300), (b) => {
        decodesOrFormatError(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes arbitrary bytes behind a valid header to a message or a MessageFormatError', () => {
    const header = fc.record({
      tkl: fc.integer({ min: 0, max: 15 }),
      code: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(header, bytes(300), ({ tkl, code }, rest) => {
        decodesOrFormatError(Buffer.concat([Buffer.from([0x40 | tkl, code, 0x12, 0x34]), rest]));
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes a valid message with one byte changed to a message or a MessageFormatError', () => {
    const mutated = anyMessage.chain((m) => {
      const wire = encodeMessage(m);
      return fc
        .record({ at: fc.integer({ min: 0, max: wire.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) })
        .map(({ at, byte }) => {
          const copy = Buffer.from(wire);
          copy[at] = byte;
          return copy;
        });
    });
    fc.assert(
      fc.property(mutated, (b) => {
        const m = decodesOrFormatError(b);
        // Whatever decodes must be encodable-shaped: bounded fields and ordered options.
        if (m !== undefined) {
          assert.ok(m.token.length <= 8);
          for (let i = 1; i < m.options.length; i++) {
            assert.ok(m.options[i - 1]!.number <= m.options[i]!.number);
          }
          assert.ok(m.options.every((o) => o.number <= 65535));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes any prefix of a valid message to a message or a MessageFormatError', () => {
    const truncated = fullMessage.chain((m) => {
      const wire = encodeMessage(m);
      return fc.integer({ min: 0, max: wire.length }).map((n) => wire.subarray(0, n));
    });
    fc.assert(
      fc.property(truncated, (b) => {
        decodesOrFormatError(b);
      }),
      { numRuns: 2000 },
    );
  });
});
