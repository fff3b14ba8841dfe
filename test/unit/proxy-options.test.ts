/**
 * The group proxy options (draft-ietf-core-groupcomm-proxy §2, §3, §7.3): their registry
 * entries and default numbers with the right property bits (RFC 7252 §5.4.6), the wire bytes of
 * the design's vectors, the checks on configured numbers, and OSCORE treating them as Class U
 * (Outer) at whatever numbers are configured.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, Method } from '../../src/message/codes.js';
import { decodeMessage } from '../../src/message/decode.js';
import { encodeMessage } from '../../src/message/encode.js';
import { type CoapMessage, EMPTY, MessageType } from '../../src/message/types.js';
import {
  DEFAULT_PROXY_OPTION_NUMBERS,
  DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS,
  proxyOptionNumbers,
} from '../../src/options/proxy-numbers.js';
import { isCritical, isNoCacheKey, isUnsafe, Opt, optionDefinition } from '../../src/options/registry.js';
import { encodeUint } from '../../src/options/values.js';
import { optionClass } from '../../src/oscore/classes.js';
import { SecurityContext } from '../../src/oscore/context.js';
import { protectRequest, protectResponse } from '../../src/oscore/protect.js';
import { unprotectRequest, unprotectResponse } from '../../src/oscore/unprotect.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]+/g, ''), 'hex');
const TOKEN = hex('a1b2c3d4');

describe('registry entries and default numbers', () => {
  it('registers the three options with their formats and lengths', () => {
    assert.deepEqual(
      [Opt.MulticastTimeout, Opt.ReplyFrom, Opt.GroupETag].map((n) => {
        const d = optionDefinition(n)!;
        return [d.number, d.name, d.format, d.minLength, d.maxLength, d.repeatable];
      }),
      [
        [65026, 'Multicast-Timeout', 'uint', 0, 4, false],
        [65016, 'Reply-From', 'opaque', 5, 1034, false],
        [65048, 'Group-ETag', 'opaque', 1, 8, true],
      ],
    );
  });

  it('gives each default the bits the draft asks for, like the draft-suggested numbers', () => {
    for (const set of [DEFAULT_PROXY_OPTION_NUMBERS, DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS]) {
      assert.deepEqual([isCritical(set.multicastTimeout), isUnsafe(set.multicastTimeout)], [false, true]);
      for (const n of [set.replyFrom, set.groupETag]) {
        assert.deepEqual([isCritical(n), isUnsafe(n), isNoCacheKey(n)], [false, false, false], String(n));
      }
    }
  });

  it('encodes the client-to-proxy and relayed-response vectors byte for byte', () => {
    const request: CoapMessage = {
      type: MessageType.CON,
      code: Method.GET,
      messageId: 1,
      token: TOKEN,
      options: [
        { number: Opt.ProxyUri, value: Buffer.from('coap://224.0.1.187/light') },
        { number: Opt.MulticastTimeout, value: encodeUint(5) },
      ],
      payload: EMPTY,
    };
    assert.equal(
      encodeMessage(request).toString('hex'),
      hex(
        '44 01 0001 a1b2c3d4 | dd 16 0b 636f61703a2f2f3232342e302e312e3138372f6c69676874 | e1 fc d2 05',
      ).toString('hex'),
    );
    const relayed = hex('54 45 0002 a1b2c3d4 | c0 | e8 fc df 822081447f000002 | ff 6f6e');
    const m = decodeMessage(relayed);
    assert.deepEqual(
      m.options.map((o) => [o.number, o.value.toString('hex')]),
      [
        [Opt.ContentFormat, ''],
        [Opt.ReplyFrom, '822081447f000002'],
      ],
    );
    assert.deepEqual(encodeMessage(m), relayed);
    const missing = hex(
      '64 80 1234 a1b2c3d4 | e0 fc f5 | ff 4d756c7469636173742d54696d656f7574207265717569726564',
    );
    const r = decodeMessage(missing);
    assert.deepEqual(
      r.options.map((o) => [o.number, o.value.length]),
      [[Opt.MulticastTimeout, 0]],
    );
    assert.equal(r.payload.toString(), 'Multicast-Timeout required');
  });
});

describe('configured numbers', () => {
  it('fills defaults, offers the draft numbers as an opt-in, and accepts numbers with the right bits', () => {
    assert.equal(proxyOptionNumbers(), DEFAULT_PROXY_OPTION_NUMBERS);
    assert.equal(proxyOptionNumbers('draft-suggested'), DRAFT_SUGGESTED_PROXY_OPTION_NUMBERS);
    assert.deepEqual(proxyOptionNumbers({ multicastTimeout: 65002, replyFrom: 65000 }), {
      multicastTimeout: 65002,
      replyFrom: 65000,
      groupETag: 65048,
    });
  });

  it('refuses numbers whose bits are wrong, taken, out of range, or equal', () => {
    const bad = [
      { multicastTimeout: 65027 }, // critical
      { multicastTimeout: 65024 }, // safe
      { replyFrom: 65018 }, // unsafe
      { groupETag: 65052 }, // NoCacheKey
      { replyFrom: Opt.ETag }, // another option's number
      { groupETag: 0 },
      { groupETag: 70000 },
      { replyFrom: 65048 }, // equals Group-ETag
    ];
    for (const b of bad) {
      assert.throws(() => proxyOptionNumbers(b), { code: 'ERR_COAP_INVALID_ARGUMENT' }, JSON.stringify(b));
    }
  });
});

describe('OSCORE classes of the proxy options', () => {
  const SECRET = hex('0102030405060708090a0b0c0d0e0f10');
  const pair = () => ({
    client: SecurityContext.derive({ masterSecret: SECRET, senderId: hex('01'), recipientId: hex('02') }),
    server: SecurityContext.derive({ masterSecret: SECRET, senderId: hex('02'), recipientId: hex('01') }),
  });
  const CUSTOM = proxyOptionNumbers({ multicastTimeout: 65002, replyFrom: 65000, groupETag: 65004 });

  it('are Class U at the default numbers, and at configured ones only when configured', () => {
    for (const n of [65026, 65016, 65048]) assert.deepEqual(optionClass(n), { inner: false, outer: true });
    for (const n of [65002, 65000, 65004]) {
      assert.deepEqual(optionClass(n), { inner: true, outer: false }, 'unknown: Class E');
      assert.deepEqual(optionClass(n, CUSTOM), { inner: false, outer: true });
    }
    assert.deepEqual(optionClass(65026, CUSTOM), { inner: true, outer: false });
  });

  for (const [label, numbers] of [
    ['default', undefined],
    ['configured', CUSTOM],
  ] as const) {
    it(`leave Multicast-Timeout and Group-ETag Outer in a request, and keep an Outer Reply-From (${label})`, () => {
      const n = numbers ?? DEFAULT_PROXY_OPTION_NUMBERS;
      const { client, server } = pair();
      const get: CoapMessage = {
        type: MessageType.CON,
        code: Method.GET,
        messageId: 7,
        token: TOKEN,
        options: [
          { number: Opt.UriPath, value: Buffer.from('light') },
          { number: n.multicastTimeout, value: encodeUint(5) },
          { number: n.groupETag, value: hex('a1b2') },
        ].sort((a, b) => a.number - b.number),
        payload: EMPTY,
      };
      const opts = numbers === undefined ? {} : { proxyOptions: numbers };
      const { message, binding } = protectRequest(get, client, opts);
      const outer = message.options.map((o) => o.number);
      assert.ok(outer.includes(n.multicastTimeout) && outer.includes(n.groupETag));
      assert.ok(!outer.includes(Opt.UriPath));
      const wire = decodeMessage(encodeMessage(message));
      const u = unprotectRequest(wire, server, opts);
      const kept = u.request.options.map((o) => o.number);
      assert.ok(
        kept.includes(n.multicastTimeout) && kept.includes(n.groupETag) && kept.includes(Opt.UriPath),
      );

      const response: CoapMessage = {
        type: MessageType.ACK,
        code: Code.Content,
        messageId: 7,
        token: TOKEN,
        options: [],
        payload: Buffer.from('on'),
      };
      const sealed = protectResponse(response, server, u.binding, opts);
      // A proxy adds Reply-From outside the protection (groupcomm-proxy §5.4.1).
      const relayed = {
        ...sealed,
        options: [...sealed.options, { number: n.replyFrom, value: hex('822081447f000002') }].sort(
          (a, b) => a.number - b.number,
        ),
      };
      const back = unprotectResponse(decodeMessage(encodeMessage(relayed)), client, binding, opts);
      assert.equal(back.response.payload.toString(), 'on');
      const replyFrom = back.response.options.find((o) => o.number === n.replyFrom);
      assert.equal(replyFrom?.value.toString('hex'), '822081447f000002', 'Reply-From survives verification');
    });
  }
});
