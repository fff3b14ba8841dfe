// Makes this process load src/ from dist/ (see bench/dist-hooks.mjs). The bench entry imports it
// before the rest of the bench; every bench child gets it as `--import`, after tsx. A child of an
// A/B run (bench/ab.ts) gets another build's directory in COAP_BENCH_DIST.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const other = process.env.COAP_BENCH_DIST;
register('./dist-hooks.mjs', import.meta.url, {
  data: { dist: other ? pathToFileURL(other.endsWith('/') ? other : `${other}/`).href : undefined },
});
