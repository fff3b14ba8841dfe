/**
 * The resource directory's authorization decisions (RFC 9176 §7.5, §8.3) by OSCORE identity and
 * by address: who is a commissioning tool, who owns a registration, what a third-party
 * registration is, and when a refusal is 4.01 (protection would help) rather than 4.03.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoapResponseError } from '../../src/errors.js';
import { MessageType } from '../../src/message/types.js';
import { parseToolSpec, RdPolicy, requesterIdentity } from '../../src/rd/policy.js';
import { IncomingRequest } from '../../src/server/request.js';
import type { RequestSecurity } from '../../src/server/site.js';

function request(address: string, security?: RequestSecurity): IncomingRequest {
  const msg = {
    type: MessageType.CON,
    code: 2,
    messageId: 1,
    token: Buffer.alloc(0),
    options: [],
    payload: Buffer.alloc(0),
  };
  return new IncomingRequest(msg, ['rd'], [], { address, port: 5683 }, false, undefined, security);
}

function code(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as CoapResponseError).responseCode;
  }
}

const CT_KID: RequestSecurity = { kind: 'oscore', kid: '01' };
const OTHER_KID: RequestSecurity = { kind: 'oscore', kid: '02' };

describe('resource directory authorization', () => {
  it('reads commissioning tools as prefixes or OSCORE identities', () => {
    assert.deepEqual(parseToolSpec('01'), { kid: '01' });
    assert.deepEqual(parseToolSpec('kid:'), { kid: '' });
    assert.deepEqual(parseToolSpec('0A@BEEF'), { kid: '0a', idContext: 'beef' });
    assert.equal('cidr' in parseToolSpec('192.0.2.0/24'), true);
    assert.equal('cidr' in parseToolSpec('::1'), true);
    for (const bad of ['', 'xyz', '1', '01@', '01@x', '300.1.1.1/8', '192.0.2.0/33']) {
      assert.throws(() => parseToolSpec(bad), { code: 'ERR_COAP_INVALID_ARGUMENT' }, bad);
    }
  });

  it('a tool named by identity must come protected: 4.01 unprotected, 4.03 with another identity', () => {
    const p = new RdPolicy(['01']);
    assert.equal(p.isTool(request('192.0.2.9', CT_KID)), true);
    assert.equal(
      code(() => p.requireTool(request('127.0.0.1'), 'a group')),
      '4.01',
    );
    assert.equal(
      code(() => p.requireTool(request('192.0.2.9', OTHER_KID), 'a group')),
      '4.03',
    );
    assert.equal(
      code(() => p.requireTool(request('192.0.2.9', CT_KID), 'a group')),
      undefined,
    );
  });

  it('an identity with an ID Context matches only that context', () => {
    const p = new RdPolicy(['01@aa']);
    assert.equal(p.isTool(request('192.0.2.9', { kind: 'group-oscore', kid: '01', idContext: 'aa' })), true);
    assert.equal(p.isTool(request('192.0.2.9', { kind: 'group-oscore', kid: '01', idContext: 'bb' })), false);
    assert.equal(p.isTool(request('192.0.2.9', CT_KID)), false);
  });

  it('a tool named by address is refused with 4.03 elsewhere; the default is loopback', () => {
    const p = new RdPolicy();
    assert.equal(p.isTool(request('127.0.0.5')), true);
    assert.equal(p.isTool(request('::1')), true);
    assert.equal(p.isTool(request('::ffff:127.0.0.1')), true);
    assert.equal(
      code(() => p.requireTool(request('192.0.2.9'), 'a group')),
      '4.03',
    );
  });

  it('remembers the requester by OSCORE identity when protected, by address otherwise', () => {
    const p = new RdPolicy([]);
    const owner = requesterIdentity(request('192.0.2.9', OTHER_KID));
    assert.equal(owner, 'oscore:02@');
    assert.equal(
      code(() => p.requireOwner(request('192.0.2.50', OTHER_KID), owner)),
      undefined,
    );
    assert.equal(
      code(() => p.requireOwner(request('192.0.2.9'), owner)),
      '4.01',
      'same address, no protection',
    );
    assert.equal(
      code(() => p.requireOwner(request('192.0.2.9', CT_KID), owner)),
      '4.03',
    );
    const byAddress = requesterIdentity(request('2001:DB8::1%eth0'));
    assert.equal(byAddress, 'addr:2001:db8::1');
    assert.equal(
      code(() => p.requireOwner(request('2001:db8:0::1'), byAddress)),
      undefined,
    );
    assert.equal(
      code(() => p.requireOwner(request('2001:db8::2'), byAddress)),
      '4.03',
    );
  });

  it('a base elsewhere than the requester is a third-party registration; a name always is', () => {
    const p = new RdPolicy([]);
    const r = request('2001:db8::1');
    assert.equal(p.isThirdParty(r, undefined), false);
    assert.equal(p.isThirdParty(r, 'coap://[2001:db8::1]:61616'), false);
    assert.equal(p.isThirdParty(r, 'coap://[2001:db8::2]'), true);
    assert.equal(p.isThirdParty(r, 'coap://node.example'), true);
    assert.equal(p.isThirdParty(request('::ffff:192.0.2.1'), 'coap://192.0.2.1'), false);
  });
});
