import { MemoryStore } from '../../src/store/memory.js';
import { storeSuite } from './suite.js';

storeSuite({
  name: 'memory',
  open: async () => new MemoryStore(),
  cleanup: async (s) => s.destroy(),
});
