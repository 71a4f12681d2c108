/** The shared behavioural suite against the file store (tiny segments, so rotation, compaction and
 * segment removal all happen), plus restart persistence. */
import { fileHarness } from './file-harness.js';
import { storeSuite } from './suite.js';

storeSuite(fileHarness('store'));
