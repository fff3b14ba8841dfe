/**
 * @module cli/oscore-config
 * `--oscore FILE` for `serve` and `get|put|post|delete`: loads the key material (docs/security.md;
 * RFC 8613 §3.2, draft-ietf-core-oscore-groupcomm §2) into the server's security hook or the
 * client's security layer.
 * A bad file is a usage error naming the field; its values are never printed.
 */
import {
  loadOscoreConfig,
  OscoreClientSecurity,
  OscoreConfigError,
  type OscoreKeyring,
  OscoreServerSecurity,
  type ServerSecurity,
} from '../index.js';
import { UsageError } from './usage.js';

function load(file: string): OscoreKeyring {
  try {
    return loadOscoreConfig(file);
  } catch (err) {
    if (err instanceof OscoreConfigError) {
      throw new UsageError(`--oscore ${file}: ${err.message}`, 'see docs/security.md for the format');
    }
    throw err;
  }
}

/** The client's security layer for `--oscore FILE`, or undefined without the option. */
export function clientSecurity(file: string | undefined): OscoreClientSecurity | undefined {
  return file === undefined ? undefined : new OscoreClientSecurity(load(file));
}

/**
 * The server hook for `--oscore FILE`, or undefined without the option. With a group in the
 * file the server's default Leisure becomes 20 s (groupcomm-bis §3.1.5) unless `--leisure` is given.
 */
export function serverSecurity(
  file: string | undefined,
  options: { pairwiseResponses?: boolean } = {},
): ServerSecurity | undefined {
  if (file === undefined) return undefined;
  return new OscoreServerSecurity(
    load(file),
    options.pairwiseResponses ? { groupResponses: 'pairwise' } : {},
  );
}
