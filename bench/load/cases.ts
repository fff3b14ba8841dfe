// The four load scenarios of the server and client sections (and bench/ab.ts): CON and NON, with
// 1 and 64 requests in flight.
export const LOAD_CASES = [
  { confirmable: true, inFlight: 1 },
  { confirmable: true, inFlight: 64 },
  { confirmable: false, inFlight: 1 },
  { confirmable: false, inFlight: 64 },
] as const;

export type LoadCase = (typeof LOAD_CASES)[number];

/** `CON x64` and the like. */
export const caseLabel = (c: LoadCase): string => `${c.confirmable ? 'CON' : 'NON'} x${c.inFlight}`;
