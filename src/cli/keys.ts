/**
 * @module cli/keys
 * `coap-group keys oscore|group`: commissioning key material in the file format of
 * docs/security.md. `keys oscore --out DIR` writes an RFC 8613 context pair (client.json,
 * server.json; RFC 8613 §3.2); `keys group --members N --out DIR` writes a Group OSCORE group
 * with one file per member (draft-ietf-core-oscore-groupcomm §2), signing with EdDSA or, given
 * `--signature es256`, ES256 on P-256 (§2.1.8). Every file has mode 0600 and
 * nothing secret is printed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  generateGroup,
  generateOscorePair,
  OscoreConfigError,
  type OscoreConfigFile,
  parseOscoreConfig,
  writeKeyFile,
} from '../index.js';
import { Exit, integer, UsageError } from './usage.js';

export const KEYS_HELP = `Usage:
  coap-group keys oscore --out DIR [--peer URI] [--force]
      an OSCORE (RFC 8613) context pair: DIR/client.json and DIR/server.json
  coap-group keys group --members N --out DIR [--address GROUP]... [--member-address ADDR]...
                        [--modes group,pairwise] [--signature eddsa|es256] [--name NAME]
                        [--force]
      a Group OSCORE group of N members: DIR/member-1.json ... DIR/member-N.json

  --out DIR         directory for the files (made with mode 0700; files get mode 0600)
  --peer URI        the server's URI, written into client.json (else it applies to any server)
  --members N       group size, 1-255; member i gets Sender ID i (hex)
  --address GROUP   group address the members send to (repeatable; default 224.0.1.187)
  --member-address ADDR
                    unicast address of member 1, 2, ... in turn (repeatable); requests sent
                    there are protected for that member alone (pairwise mode)
  --modes LIST      group, pairwise or group,pairwise (default): the modes the group uses
  --signature ALG   eddsa (default: Ed25519 keys) or es256 (ECDSA on P-256 keys)
  --name NAME       a name for the group
  --force           overwrite existing files

Use a file with 'serve --oscore FILE' and 'get|put|post|delete --oscore FILE'. The format is in
docs/security.md. Keep the files private: they hold master secrets and private keys.`;

const OPTIONS = {
  out: { type: 'string' },
  peer: { type: 'string' },
  members: { type: 'string' },
  address: { type: 'string', multiple: true },
  'member-address': { type: 'string', multiple: true },
  modes: { type: 'string' },
  signature: { type: 'string' },
  name: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function write(files: Array<[string, OscoreConfigFile]>, dir: string, overwrite: boolean): void {
  // All or nothing: a half-written set would leave files whose secrets do not match.
  const present = overwrite ? [] : files.map(([name]) => join(dir, name)).filter((p) => existsSync(p));
  if (present.length > 0)
    throw new UsageError(`${present.join(', ')} already exists`, 'give --force to overwrite');
  for (const [name, content] of files) {
    const path = join(dir, name);
    try {
      writeKeyFile(path, content, { overwrite });
    } catch (err) {
      // Only "already exists" is the user's to mend; I/O failures (EACCES, ENOSPC) exit 4.
      if (err instanceof OscoreConfigError && /exist/i.test(err.message)) {
        throw new UsageError(err.message, 'give --force to overwrite');
      }
      throw err;
    }
    process.stdout.write(`wrote ${path} (mode 0600)\n`);
  }
}

function modesOf(text: string): Array<'group' | 'pairwise'> {
  const list = text.split(',').map((m) => m.trim());
  const ok = list.length > 0 && list.every((m) => m === 'group' || m === 'pairwise');
  if (!ok) throw new UsageError(`--modes ${text}: unknown mode`, 'use group, pairwise or group,pairwise');
  return [...new Set(list as Array<'group' | 'pairwise'>)];
}

/** Runs `keys ...`; resolves with the exit code. */
export async function runKeys(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [what, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(`${KEYS_HELP}\n`);
    return Exit.OK;
  }
  if (what === undefined) throw new UsageError('keys needs a command', 'use keys oscore or keys group');
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`, 'see coap-group keys --help');
  const out = values.out;
  if (out === undefined)
    throw new UsageError(`keys ${what} needs --out DIR`, `e.g. coap-group keys ${what} --out ./keys`);
  const force = values.force === true;
  if (what === 'oscore') {
    if (
      values.members !== undefined ||
      values.address !== undefined ||
      values['member-address'] !== undefined ||
      values.modes !== undefined ||
      values.signature !== undefined
    )
      throw new UsageError(
        '--members, --address, --member-address, --modes and --signature are for keys group',
      );
    const pair = generateOscorePair(values.peer !== undefined ? { peer: values.peer } : {});
    write(
      [
        ['client.json', pair.client],
        ['server.json', pair.server],
      ],
      out,
      force,
    );
    return Exit.OK;
  }
  if (what === 'group') {
    const members = integer('members', values.members, 1, 255);
    if (members === undefined) throw new UsageError('keys group needs --members N', 'e.g. --members 4');
    const memberAddresses = values['member-address'] ?? [];
    if (memberAddresses.length > members)
      throw new UsageError(
        `${memberAddresses.length} --member-address for ${members} members`,
        'give at most one address per member, member 1 first',
      );
    const signature = values.signature;
    if (signature !== undefined && signature !== 'eddsa' && signature !== 'es256')
      throw new UsageError(`--signature ${signature}: unknown algorithm`, 'use eddsa or es256');
    const files = generateGroup({
      ...(signature !== undefined ? { signature } : {}),
      members,
      memberAddresses,
      ...(values.modes !== undefined ? { modes: modesOf(values.modes) } : {}),
      ...(values.address !== undefined ? { addresses: values.address } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
    });
    try {
      // Addresses come from the command line: check them now, not when a node loads the file.
      parseOscoreConfig(files[0]);
    } catch (err) {
      if (err instanceof OscoreConfigError)
        throw new UsageError(err.message, 'addresses are IP literals, optionally with :PORT');
      throw err;
    }
    write(
      files.map((f, i): [string, OscoreConfigFile] => [`member-${i + 1}.json`, f]),
      out,
      force,
    );
    return Exit.OK;
  }
  throw new UsageError(`unknown keys command ${JSON.stringify(what)}`, 'use keys oscore or keys group');
}
