/**
 * @module oscore/endpoint/config
 * The key-material file of a node (format in docs/security.md): RFC 8613 contexts from their
 * pre-established inputs (§3.2) and Group OSCORE groups with their members' Ed25519 (or, with
 * ES256, P-256) public keys and this node's private key (draft-ietf-core-oscore-groupcomm §2,
 * §2.1.8, §2.4). Loading is all or
 * nothing: any missing or malformed field throws `OscoreConfigError` naming it, before any
 * context exists. Sender Sequence Numbers persist next to the file (RFC 8613 Appendix B.1.1).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecurityContext } from '../context.js';
import { PersistentSequence } from '../sequence.js';
import {
  asObject,
  bytes,
  destination,
  fieldPath,
  id,
  type Obj,
  onlyKeys,
  optionalArray,
  optionalInteger,
  optionalString,
} from './config-fields.js';
import { groupEntry } from './config-group.js';
import { aeadField, COMMON, derive, type OscoreConfigOptions, sequenceFor } from './config-shared.js';
import { OscoreConfigError } from './errors.js';
import { OscoreKeyring } from './keyring.js';
import { FileSequenceStorage } from './sequence-file.js';

export type { OscoreConfigOptions } from './config-shared.js';

const TOP = ['version', 'oscore', 'group'];
const OSCORE = [
  'name',
  'peer',
  'masterSecret',
  'masterSalt',
  'idContext',
  'senderId',
  'recipientId',
  'aeadAlgorithm',
];

function oscoreEntry(
  keyring: OscoreKeyring,
  o: Obj,
  key: string,
  baseDir: string | undefined,
  opts: OscoreConfigOptions,
): void {
  onlyKeys(o, [...OSCORE, ...COMMON]);
  const peerText = o.value.peer;
  const peer = peerText === undefined ? undefined : destination(peerText, fieldPath(o.path, 'peer'), 5683);
  const masterSecret = bytes(o, 'masterSecret', true);
  if (masterSecret.length === 0) throw new OscoreConfigError(fieldPath(o.path, 'masterSecret'), 'is empty');
  const masterSalt = bytes(o, 'masterSalt', false);
  const idContext = bytes(o, 'idContext', false);
  const senderId = id(o, 'senderId')!;
  const recipientId = id(o, 'recipientId')!;
  const replayWindow = optionalInteger(o, 'replayWindow', 1, 4096);
  const aeadAlgorithm = aeadField(o, 'aeadAlgorithm');
  const senderSequence = sequenceFor(o, key, baseDir, opts);
  const name = optionalString(o, 'name');
  const ctx = derive(o.path, () =>
    SecurityContext.derive({
      ...(aeadAlgorithm !== undefined ? { aeadAlgorithm } : {}),
      masterSecret,
      senderId,
      recipientId,
      senderSequence,
      ...(masterSalt !== undefined ? { masterSalt } : {}),
      ...(idContext !== undefined ? { idContext } : {}),
      ...(replayWindow !== undefined ? { replayWindow } : {}),
    }),
  );
  derive(o.path, () => keyring.addOscore(ctx, { ...(peer ? { peer } : {}), ...(name ? { name } : {}) }));
}

/**
 * Builds a keyring from a parsed key-material object.
 * @param baseDir where relative `sequenceFile` paths start (the config file's directory).
 * @throws OscoreConfigError naming the first missing or malformed field.
 */
export function parseOscoreConfig(
  json: unknown,
  options: OscoreConfigOptions & { baseDir?: string } = {},
): OscoreKeyring {
  const top = asObject(json, '');
  onlyKeys(top, TOP);
  const version = top.value.version;
  if (version !== undefined && version !== 1) throw new OscoreConfigError('version', 'must be 1');
  const keyring = new OscoreKeyring();
  const oscore = optionalArray(top, 'oscore');
  const group = optionalArray(top, 'group');
  if (oscore.length === 0 && group.length === 0)
    throw new OscoreConfigError('', 'the file has no context: give "oscore" or "group" entries');
  for (const [i, e] of oscore.entries())
    oscoreEntry(keyring, asObject(e, `oscore[${i}]`), `oscore-${i}`, options.baseDir, options);
  for (const [i, e] of group.entries())
    groupEntry(keyring, asObject(e, `group[${i}]`), `group-${i}`, options.baseDir, options);
  return keyring;
}

/**
 * Reads and checks a key-material file. Each context's Sender Sequence Number bound is kept in
 * `<file>.<key>.seq` (mode 0600) unless the entry names a `sequenceFile`.
 * @throws OscoreConfigError for an unreadable file, one others may read, bad JSON or a bad field.
 */
export function loadOscoreConfig(file: string, options: OscoreConfigOptions = {}): OscoreKeyring {
  let text: string;
  try {
    if (options.checkMode !== false) {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new OscoreConfigError(
          '',
          `${file} has mode 0${mode.toString(8)}: key material must be private (chmod 600 ${file})`,
        );
      }
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof OscoreConfigError) throw err;
    throw new OscoreConfigError(
      '',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // The parser's message may quote the text, which holds secrets: only the position is kept.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new OscoreConfigError('', `${file} is not valid JSON${at === undefined ? '' : ` (at byte ${at})`}`);
  }
  const sequence =
    options.sequence ??
    ((key: string, given: string | undefined) =>
      new PersistentSequence(new FileSequenceStorage(given ?? `${file}.${key}.seq`), {
        reserve: options.reserve ?? 100,
      }));
  return parseOscoreConfig(json, { ...options, sequence, baseDir: dirname(file) });
}
