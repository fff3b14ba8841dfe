// Makes this process load src/ from dist/ (see bench/dist-hooks.mjs). The bench entry imports it
// before the rest of the bench; every bench child gets it as `--import`, after tsx.
import { register } from 'node:module';

register('./dist-hooks.mjs', import.meta.url);
