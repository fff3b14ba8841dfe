/**
 * The parts of the console that need no browser (src/console): reading the CoRE Link Format the
 * nodes and the directory answer (RFC 6690 §2, quoted strings holding `,` and `;`), the command
 * lines it shows (quoted for a POSIX shell), a node's answer in words (4.00, 4.01, 4.03, 5.03 with
 * its wait; the gateway's own refusal told apart), and group addresses as memberships write them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { commandLine, shellWord } from '../../src/console/commands.js';
import { attr, linkText, parseLinks } from '../../src/console/links.js';
import { hostPort } from '../../src/console/state.js';
import { answerWords, codeWords, succeeded } from '../../src/console/words.js';

describe('console parts', () => {
  it('reads links, their attributes and quoted values', () => {
    const links = parseLinks(
      '</light>;rt="light";ct=0;title="Light, 1; hall";obs,</coap-group>;rt=core.gp;ct=256,\n <coap://127.0.0.2/x>;if="a b"',
    );
    assert.deepEqual(
      links.map((l) => l.href),
      ['/light', '/coap-group', 'coap://127.0.0.2/x'],
    );
    assert.equal(attr(links[0]!, 'title'), 'Light, 1; hall');
    assert.equal(attr(links[0]!, 'obs'), '');
    assert.equal(linkText(links[0]!), '</light> rt=light ct=0 obs');
    assert.equal(linkText(links[1]!), '</coap-group> rt=core.gp ct=256');
    assert.equal(attr(links[2]!, 'if'), 'a b');
    assert.deepEqual(parseLinks(''), []);
    assert.deepEqual(parseLinks('not links'), []);
  });

  it('writes command lines a shell reads back as they were', () => {
    const line = commandLine('put', 'coap://224.0.1.187/light', '--payload', "it's on", '--format', '0');
    assert.equal(line, `coap-group put coap://224.0.1.187/light --payload 'it'\\''s on' --format 0`);
    assert.equal(shellWord('</light>;rt=light'), `'</light>;rt=light'`);
    assert.equal(shellWord('coap://[ff02::fd]/light'), 'coap://[ff02::fd]/light');
    const r = spawnSync('bash', ['-c', `printf '%s\\n' ${line.split(' ').slice(1).join(' ')}`], {
      encoding: 'utf8',
    });
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'put',
      'coap://224.0.1.187/light',
      '--payload',
      "it's on",
      '--format',
      '0',
    ]);
  });

  it("says a node's answer in words, and tells the gateway's own refusal apart", () => {
    assert.equal(codeWords('2.01'), '2.01 Created');
    const created = { status: 201, code: '2.01', text: '', location: 'coap://127.0.0.2/coap-group/3' };
    assert.equal(answerWords(created), '2.01 Created: coap://127.0.0.2/coap-group/3');
    assert.ok(succeeded(created));
    assert.equal(
      answerWords({ status: 400, code: '4.00', text: 'member "a": "10.0.0.1" is not a multicast address' }),
      '4.00 Bad Request: the node refused the request as malformed: member "a": "10.0.0.1" is not a multicast address',
    );
    assert.equal(
      answerWords({ status: 403, code: '4.01', text: '' }),
      '4.01 Unauthorized: the node does not know who is asking',
    );
    assert.equal(
      answerWords({ status: 403, code: '4.03', text: '' }),
      '4.03 Forbidden: the node does not let this client change it',
    );
    assert.equal(
      answerWords({ status: 503, code: '5.03', text: 'too fast', retryAfter: '4' }),
      '5.03 Service Unavailable: the node cannot take it now: too fast: try again in 4 s',
    );
    const own = { status: 403, code: undefined, text: 'the target 192.0.2.1 is not in the allow-list' };
    assert.equal(
      answerWords(own),
      'the gateway refused (403): the target 192.0.2.1 is not in the allow-list',
    );
    assert.equal(succeeded(own), false);
  });

  it('reads group addresses as memberships write them', () => {
    assert.deepEqual(hostPort('239.255.0.3:5683'), { host: '239.255.0.3', port: 5683 });
    assert.deepEqual(hostPort('239.255.0.3'), { host: '239.255.0.3', port: 5683 });
    assert.deepEqual(hostPort('[ff05::3]:61616'), { host: 'ff05::3', port: 61616 });
    assert.deepEqual(hostPort('[ff05::3]'), { host: 'ff05::3', port: 5683 });
  });
});
