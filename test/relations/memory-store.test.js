// The relationship store conformance suite on the in-memory store.
import t from 'tap';
import { relationStoreConformance } from '../../src/relations/store/conformance.js';
import { MemoryRelationStore } from '../../src/relations/store/memory-relation-store.js';
relationStoreConformance(t, 'memory', async () => ({ store: new MemoryRelationStore(), cleanup: async () => { } }));
