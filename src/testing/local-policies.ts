// A set of compiled documents gathered by namespace path exactly as the service gathers
// stored ones (SPEC §2): namespaces left to right, inside one by ordinal, then key.
// What suites and `policy-engine eval` run against, with no store involved.

import { comparePolicies, runsAsPolicy, type CompiledPolicy } from '../core/compile/types.js';
import { CatalogueIndex } from '../core/messages/catalogue.js';

export class LocalPolicies {
  private readonly byNamespace = new Map<string, CompiledPolicy[]>();
  /** message catalogues, by namespace and language */
  readonly catalogues: CatalogueIndex;

  private readonly keyed = new Map<string, CompiledPolicy>();

  constructor(policies: readonly CompiledPolicy[]) {
    for (const p of policies) this.keyed.set(p.key, p);
    this.catalogues = new CatalogueIndex(policies.flatMap((p) => (p.catalogue ? [p.catalogue] : [])));
    for (const p of policies) {
      // A registry declares inputs, a catalogue holds texts, a stored suite holds cases: none runs nor counts as present.
      if (!runsAsPolicy(p)) continue;
      const list = this.byNamespace.get(p.namespace);
      if (list) list.push(p);
      else this.byNamespace.set(p.namespace, [p]);
    }
    for (const list of this.byNamespace.values()) list.sort(comparePolicies);
  }

  byKey(key: string): CompiledPolicy | undefined {
    return this.keyed.get(key);
  }

  /** The documents a path gathers, in run order (disabled ones included: they count as present). */
  gather(namespaces: readonly string[]): CompiledPolicy[] {
    return namespaces.flatMap((ns) => this.byNamespace.get(ns) ?? []);
  }
}
