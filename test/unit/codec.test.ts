/**
 * Tests of the message codec (RFC 7252 §3, §3.1, §4.1), the option registry bits (§5.4.6),
 * option value formats (§3.2), code text (§5.9, §12.1) and Content-Format parsing (§12.3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError, MessageEncodeError, MessageFormatError } from '../../src/errors.js';
import { Code, codeToString, parseCode } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, type CoapOption, EMPTY, MessageType } from '../../src/message/types.js';
import { parseContentFormat } from '../../src/options/content-format.js';
import { isCritical, isNoCacheKey, isUnsafe, Opt } from '../../src/options/registry.js';
import { decodeUint, encodeUint } from '../../src/options/values.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const opt = (number: number, value: Buffer | string): CoapOption => ({
  number,
  value: typeof value === 'string' ? Buffer.from(value) : value,
});

function message(parts: Partial<CoapMessage>): CoapMessage {
  return {
    type: MessageType.CON,
    code: 1,
    messageId: 0,
    token: EMPTY,
    options: [],
    payload: EMPTY,
    ...parts,
  };
}

/** Options as comparable [number, hex] pairs. */
const optionPairs = (m: CoapMessage): Array<[number, string]> =>
  m.options.map((o) => [o.number, o.value.toString('hex')]);

describe('encodeMessage and decodeMessage: RFC 7252 byte vectors', () => {
  it('encodes a CON GET with Uri-Path "temperature" as in RFC 7252 Appendix A', () => {
    const msg = message({ messageId: 0x7d34, options: [opt(Opt.UriPath, 'temperature')] });
    const wire = hex('40 01 7d 34 bb 74 65 6d 70 65 72 61 74 75 72 65');
    assert.deepEqual(encodeMessage(msg), wire);
    const back = decodeMessage(wire);
    assert.equal(back.type, MessageType.CON);
    assert.equal(back.code, 1);
    assert.equal(back.messageId, 0x7d34);
    assert.equal(back.token.length, 0);
    assert.deepEqual(optionPairs(back), [[11, Buffer.from('temperature').toString('hex')]]);
    assert.equal(back.payload.length, 0);
  });

  it('encodes a piggy-backed ACK 2.05 with a token and payload "22.3 C"', () => {
    const msg = message({
      type: MessageType.ACK,
      code: Code.Content,
      messageId: 0x7d34,
      token: hex('20'),
      payload: Buffer.from('22.3 C'),
    });
    const wire = hex('61 45 7d 34 20 ff 32 32 2e 33 20 43');
    assert.deepEqual(encodeMessage(msg), wire);
    const back = decodeMessage(wire);
    assert.equal(back.type, MessageType.ACK);
    assert.equal(back.code, 0x45);
    assert.deepEqual(back.token, hex('20'));
    assert.equal(back.payload.toString(), '22.3 C');
  });

  const deltaVectors: Array<[string, CoapOption[], string]> = [
    ['Size1 (60): delta 13 form, extended byte 47', [opt(60, hex('10'))], 'd1 2f 10'],
    ['No-Response (258): delta 13 form, extended byte 245', [opt(258, hex('02'))], 'd1 f5 02'],
    ['Request-Tag (292): delta 14 form, extended 0x0017', [opt(292, hex('ab'))], 'e1 00 17 ab'],
    ['option 2000: delta 14 form, extended 0x06c3', [opt(2000, EMPTY)], 'e0 06 c3'],
    ['option 12 then 13: delta 12 inline, then delta 1', [opt(12, EMPTY), opt(13, EMPTY)], 'c0 10'],
    ['option 268: largest delta 13 form', [opt(268, EMPTY)], 'd0 ff'],
    ['option 269: smallest delta 14 form', [opt(269, EMPTY)], 'e0 00 00'],
    ['option 65535: largest number', [opt(65535, EMPTY)], 'e0 fe f2'],
    [
      'options 60, 258, 292, 2000 in one message: deltas 60, 198, 34, 1708',
      [opt(60, EMPTY), opt(258, EMPTY), opt(292, EMPTY), opt(2000, EMPTY)],
      'd0 2f d0 b9 d0 15 e0 05 9f',
    ],
  ];
  for (const [name, options, optionHex] of deltaVectors) {
    it(`encodes ${name}`, () => {
      const wire = hex(`40 01 00 01 ${optionHex}`);
      assert.deepEqual(encodeMessage(message({ messageId: 1, options })), wire);
      assert.deepEqual(
        optionPairs(decodeMessage(wire)),
        options.map((o) => [o.number, o.value.toString('hex')]),
      );
    });
  }

  const lengthVectors: Array<[number, string]> = [
    [12, '2c'],
    [13, '2d 00'],
    [268, '2d ff'],
    [269, '2e 00 00'],
    [1000, '2e 02 db'],
  ];
  for (const [length, header] of lengthVectors) {
    it(`encodes an option value of ${length} bytes with header ${header} (unregistered option 2)`, () => {
      const value = Buffer.alloc(length, 0x61);
      const wire = Buffer.concat([hex(`40 01 00 01 ${header}`), value]);
      assert.deepEqual(encodeMessage(message({ messageId: 1, options: [opt(2, value)] })), wire);
      const back = decodeMessage(wire);
      assert.equal(back.options.length, 1);
      assert.deepEqual(back.options[0]!.value, value);
    });
  }

  it('encodes an Empty message (0.00) as exactly the 4-byte header, as ping CON or as RST', () => {
    assert.deepEqual(encodeMessage(message({ code: 0, messageId: 0x1234 })), hex('40 00 12 34'));
    assert.deepEqual(
      encodeMessage(message({ type: MessageType.RST, code: 0, messageId: 0xbeef })),
      hex('70 00 be ef'),
    );
    const back = decodeMessage(hex('60 00 00 07'));
    assert.equal(back.type, MessageType.ACK);
    assert.equal(back.code, 0);
    assert.equal(back.messageId, 7);
  });

  it('sorts unsorted options by number, keeping the order of repeated options', () => {
    const options = [opt(11, 'a'), opt(3, 'h'), opt(15, 'q'), opt(11, 'b'), opt(4, hex('01')), opt(11, 'c')];
    const input = message({ options: [...options] });
    const back = decodeMessage(encodeMessage(input));
    assert.deepEqual(
      back.options.map((o) => `${o.number}:${o.value.toString('latin1')}`),
      ['3:h', '4:\x01', '11:a', '11:b', '11:c', '15:q'],
    );
    assert.deepEqual(input.options, options, 'the caller’s option list is not reordered');
  });
});

describe('decodeMessage: message format errors (RFC 7252 §3, §4.1)', () => {
  const cases: Array<[string, string, number]> = [
    ['an empty datagram', '', 0],
    ['a datagram shorter than the 4-byte header', '40 01 00', 3],
    ['version 0', '00 01 00 01', 0],
    ['version 2', '80 01 00 01', 0],
    ['version 3', 'c0 01 00 01', 0],
    ['token length 9', '49 01 00 01 01 02 03 04 05 06 07 08 09', 0],
    ['token length 15', '4f 01 00 01', 0],
    ['a token that runs past the end', '42 01 00 01 aa', 4],
    ['option delta 15 that is not the payload marker', '40 01 00 01 f0', 4],
    ['option delta 15 after a 2-byte token', '42 01 00 01 aa bb f1 00', 6],
    ['option length 15', '40 01 00 01 bf', 4],
    ['an option value that runs past the end', '40 01 00 01 b3 61', 5],
    ['an extended delta byte that is missing', '40 01 00 01 d0', 5],
    ['an extended 2-byte delta with one byte', '40 01 00 01 e0 00', 5],
    ['an extended length byte that is missing', '40 01 00 01 bd', 5],
    ['an option number above 65535', '40 01 00 01 e0 ff ff', 4],
    ['a payload marker followed by an empty payload', '40 01 00 01 ff', 4],
    ['a payload marker with empty payload after an option', '40 01 00 01 b1 61 ff', 6],
    ['an Empty message with a token', '41 00 00 01 aa', 4],
    ['an Empty message with a payload', '40 00 00 01 ff 61', 4],
    ['an Empty RST with an option', '70 00 00 01 b0', 4],
  ];
  for (const [name, wire, offset] of cases) {
    it(`rejects ${name} at byte ${offset}`, () => {
      assert.throws(
        () => decodeMessage(hex(wire)),
        (e: unknown) => {
          assert.ok(e instanceof MessageFormatError, `threw ${String(e)}`);
          assert.equal(e.code, 'ERR_COAP_MESSAGE_FORMAT');
          assert.equal(e.offset, offset);
          return true;
        },
      );
    });
  }

  it('returns option values and payload as views of the datagram', () => {
    const wire = hex('40 01 00 01 b1 61 ff 62');
    const m = decodeMessage(wire);
    assert.equal(m.options[0]!.value.buffer, wire.buffer);
    assert.equal(m.payload.toString(), 'b');
  });

  it('decodes 0 to 4 options in order, each decode with an options array of its own', () => {
    for (let n = 0; n <= 4; n++) {
      const options = Array.from({ length: n }, (_, i) => opt(Opt.UriPath, `s${i}`));
      const wire = encodeMessage(message({ options, payload: Buffer.from('p') }));
      const a = decodeMessage(wire);
      const b = decodeMessage(wire);
      assert.deepEqual(optionPairs(a), optionPairs(message({ options })), `${n} options`);
      assert.notEqual(a.options, b.options);
      a.options.push(opt(Opt.ContentFormat, EMPTY));
      assert.equal(b.options.length, n);
      assert.equal(decodeMessage(wire).options.length, n);
      assert.equal(a.payload.toString(), 'p');
    }
  });
});

describe('encodeMessage: encode errors', () => {
  const cases: Array<[string, Partial<CoapMessage>]> = [
    ['a token of 9 bytes', { token: Buffer.alloc(9) }],
    ['code 256', { code: 256 }],
    ['code -1', { code: -1 }],
    ['a non-integer code', { code: 1.5 }],
    ['message ID 65536', { messageId: 0x10000 }],
    ['message ID -1', { messageId: -1 }],
    ['message type 4', { type: 4 as MessageType }],
    ['Uri-Host of 0 bytes (minimum 1)', { options: [opt(Opt.UriHost, EMPTY)] }],
    ['Observe of 4 bytes (maximum 3)', { options: [opt(Opt.Observe, Buffer.alloc(4))] }],
    ['If-None-Match with a value', { options: [opt(Opt.IfNoneMatch, hex('00'))] }],
    ['ETag of 9 bytes', { options: [opt(Opt.ETag, Buffer.alloc(9))] }],
    ['option number 65536', { options: [opt(65536, EMPTY)] }],
    ['a negative option number', { options: [opt(-2, EMPTY)] }],
    ['an unregistered option of 65805 bytes', { options: [opt(65000, Buffer.alloc(65805))] }],
    ['an Empty message with a payload', { code: 0, payload: hex('01') }],
    ['an Empty message with a token', { code: 0, token: hex('01') }],
    ['an Empty message with an option', { code: 0, options: [opt(60, EMPTY)] }],
  ];
  for (const [name, parts] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => encodeMessage(message(parts)),
        (e: unknown) => e instanceof MessageEncodeError && e.code === 'ERR_COAP_MESSAGE_ENCODE',
      );
    });
  }

  it('accepts registered options at the edges of their length range', () => {
    const options = [
      opt(Opt.UriHost, 'h'),
      opt(Opt.Observe, Buffer.alloc(3)),
      opt(Opt.UriPath, Buffer.alloc(255)),
    ];
    assert.throws(
      () => encodeMessage(message({ options: [opt(Opt.UriHost, Buffer.alloc(256))] })),
      MessageEncodeError,
    );
    assert.doesNotThrow(() => encodeMessage(message({ options })));
    assert.doesNotThrow(() => encodeMessage(message({ options: [opt(65000, Buffer.alloc(65804))] })));
  });
});

describe('option number property bits (RFC 7252 §5.4.6)', () => {
  const table: Array<[number, string, boolean, boolean, boolean]> = [
    // number, name, critical, unsafe, NoCacheKey
    [1, 'If-Match', true, false, false],
    [3, 'Uri-Host', true, true, false],
    [4, 'ETag', false, false, false],
    [6, 'Observe', false, true, false],
    [11, 'Uri-Path', true, true, false],
    [14, 'Max-Age', false, true, false],
    [28, 'Size2', false, false, true],
    [35, 'Proxy-Uri', true, true, false],
    [60, 'Size1', false, false, true],
    [258, 'No-Response', false, true, false],
    [292, 'Request-Tag', false, false, false],
  ];
  for (const [n, name, critical, unsafe, noCacheKey] of table) {
    it(`classifies ${n} (${name}) as ${critical ? 'critical' : 'elective'}, ${unsafe ? 'unsafe' : 'safe'}${noCacheKey ? ', NoCacheKey' : ''}`, () => {
      assert.equal(isCritical(n), critical);
      assert.equal(isUnsafe(n), unsafe);
      assert.equal(isNoCacheKey(n), noCacheKey);
    });
  }
});

describe('encodeUint and decodeUint (RFC 7252 §3.2)', () => {
  const vectors: Array<[number, string]> = [
    [0, ''],
    [1, '01'],
    [255, 'ff'],
    [256, '0100'],
    [65535, 'ffff'],
    [65536, '010000'],
    [0xffffff, 'ffffff'],
    [0x1000000, '01000000'],
    [0xffffffff, 'ffffffff'],
  ];
  for (const [n, wire] of vectors) {
    it(`encodes ${n} in the fewest bytes: ${wire || '(zero-length)'}`, () => {
      assert.equal(encodeUint(n).toString('hex'), wire);
      assert.equal(decodeUint(hex(wire)), n);
    });
  }

  it('reads values with leading zero bytes', () => {
    assert.equal(decodeUint(hex('000001')), 1);
    assert.equal(decodeUint(hex('00')), 0);
    assert.equal(decodeUint(hex('00ff00')), 0xff00);
  });
});

describe('codeToString and parseCode', () => {
  const codes: Array<[number, string]> = [
    [0, '0.00'],
    [1, '0.01'],
    [0x45, '2.05'],
    [0x5f, '2.31'],
    [0x84, '4.04'],
    [0xa0, '5.00'],
    [0xff, '7.31'],
  ];
  for (const [c, text] of codes) {
    it(`writes ${c} as "${text}" and reads it back`, () => {
      assert.equal(codeToString(c), text);
      assert.equal(parseCode(text), c);
    });
  }

  for (const bad of ['2.5', '8.00', '2.32', '', 'x.05', '2.050', ' 2.05', '2-05']) {
    it(`does not parse ${JSON.stringify(bad)}`, () => {
      assert.equal(parseCode(bad), undefined);
    });
  }
});

describe('parseContentFormat', () => {
  const known: Array<[string, number]> = [
    ['0', 0],
    ['50', 50],
    ['65535', 65535],
    ['text/plain', 0],
    ['text/plain;charset=utf-8', 0],
    ['application/link-format', 40],
    ['application/json', 50],
    [' Application/CBOR ', 60],
    ['application/coap-group+json', 256],
  ];
  for (const [text, n] of known) {
    it(`reads ${JSON.stringify(text)} as ${n}`, () => {
      assert.equal(parseContentFormat(text), n);
    });
  }

  for (const bad of ['application/foo', '65536', '-1', '', 'json']) {
    it(`rejects ${JSON.stringify(bad)} with InvalidArgumentError`, () => {
      assert.throws(
        () => parseContentFormat(bad),
        (e: unknown) => e instanceof InvalidArgumentError && e.code === 'ERR_COAP_INVALID_ARGUMENT',
      );
    });
  }
});
