// The memory store against the shared store conformance suite.
import t from 'tap';
import { samplePolicy, storeConformance } from '../../src/store/conformance.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
storeConformance(t, 'memory', async () => ({ store: new MemoryStore(), cleanup: async () => { } }));
t.test('records handed out cannot be changed behind the store\'s back', async (t) => {
    const store = new MemoryStore();
    await store.open();
    const input = samplePolicy('org-a');
    const { record } = await store.put(input);
    // samplePolicy builds policy documents (not registries).
    const rulesOf = (doc) => doc.rules;
    rulesOf(input.document).length = 0;
    t.equal(rulesOf((await store.get('org-a'))?.document).length, 1, 'the store kept its own copy');
    t.throws(() => {
        rulesOf(record.document).push({});
    }, TypeError, 'stored records are frozen');
});
