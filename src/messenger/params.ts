/**
 * @module messenger/params
 * Validation of per-endpoint transmission parameters (RFC 7252 §4.8: ACK_TIMEOUT >= 1 s is the
 * safe floor on the open Internet, ACK_RANDOM_FACTOR >= 1). Checked eagerly at construction.
 */
import { DEFAULT_TRANSMISSION, type TransmissionParameters } from '../constants.js';
import { InvalidArgumentError } from '../errors.js';

/** Fills defaults and checks ranges. @throws InvalidArgumentError naming the parameter. */
export function resolveTransmission(p: Partial<TransmissionParameters> | undefined): TransmissionParameters {
  const r: TransmissionParameters = { ...DEFAULT_TRANSMISSION, ...p };
  const check = (name: keyof TransmissionParameters, ok: boolean, rule: string) => {
    if (!ok) throw new InvalidArgumentError(`transmission parameter ${name} = ${r[name]}: ${rule}`);
  };
  // Below 1 s only makes sense on links the caller controls (tests, loopback); allow >= 0.01 s.
  check(
    'ackTimeout',
    Number.isFinite(r.ackTimeout) && r.ackTimeout >= 0.01,
    'must be a number of seconds >= 0.01',
  );
  check('ackRandomFactor', r.ackRandomFactor >= 1 && r.ackRandomFactor <= 10, 'must be in [1, 10]');
  check(
    'maxRetransmit',
    Number.isInteger(r.maxRetransmit) && r.maxRetransmit >= 0 && r.maxRetransmit <= 20,
    'must be an integer 0-20',
  );
  check(
    'nstart',
    Number.isInteger(r.nstart) && r.nstart >= 1 && r.nstart <= 100_000,
    'must be an integer >= 1',
  );
  check('defaultLeisure', Number.isFinite(r.defaultLeisure) && r.defaultLeisure >= 0, 'must be >= 0 seconds');
  check('probingRate', r.probingRate > 0, 'must be > 0 bytes per second');
  check('maxLatency', Number.isFinite(r.maxLatency) && r.maxLatency >= 0, 'must be >= 0 seconds');
  return Object.freeze(r);
}
