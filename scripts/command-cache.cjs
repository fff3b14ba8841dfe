// Writes V8's code cache for the bundled command (the build runs it: node
// scripts/command-cache.cjs dist/command/coap-group.cjs). The cache holds the code of every
// function that ran before it is taken, so the command runs what users run most first: `--help`,
// and a `get` of a one-line responder on 127.0.0.1 made here (nothing leaves the host). Its output
// goes nowhere: the build ignores this process's stdout.
'use strict';
const dgram = require('node:dgram');
const { writeFileSync } = require('node:fs');
const { loadCommand } = require('../bin/load-command.cjs');

const file = process.argv[2];
// Bounded: a run that hangs leaves the command without a cache, not the build without an end.
setTimeout(() => fail('the warm-up run took over 20 s'), 20_000).unref();

function fail(why) {
  process.stderr.write(`${why}\n`);
  process.exit(1);
}

/** Answers every confirmable request with a piggybacked 2.05 "ok" (RFC 7252 §3, §5.2.1). */
function responder() {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (m, from) => {
    if (m.length < 4 || m[0] >> 6 !== 1 || ((m[0] >> 4) & 3) !== 0) return;
    const tkl = m[0] & 0x0f;
    const head = Buffer.from([0x60 | tkl, 0x45, m[2], m[3]]);
    socket.send(
      Buffer.concat([head, m.subarray(4, 4 + tkl), Buffer.from([0xff]), Buffer.from('ok')]),
      from.port,
      from.address,
    );
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

async function run() {
  const { exports, script } = loadCommand(file);
  const socket = await responder();
  try {
    if ((await exports.main(['--help'])) !== 0) fail('--help failed');
    const code = await exports.main(['get', `coap://127.0.0.1:${socket.address().port}/warm-up`]);
    if (code !== 0) fail(`the warm-up get exited ${code}`);
  } finally {
    socket.close();
  }
  writeFileSync(`${file}.cache`, script.createCachedData());
}

run().then(
  () => process.exit(0),
  (err) => fail(`the warm-up run failed: ${err?.message ?? err}`),
);
