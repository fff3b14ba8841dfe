/**
 * The group tests' name for the namespace runner of netns.ts (which checks that the inner run
 * really ran tests and skips, with the reason printed, where the setup is impossible).
 */
export { runSelfInNetns as runGroupTestsInNetns, setupUnavailable } from './netns.js';
