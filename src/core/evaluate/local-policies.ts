// A set of compiled documents gathered by namespace path exactly as the service gathers
// stored ones (SPEC §2): namespaces left to right, inside one by ordinal, then key.
// The document source of suites, preview states and `policy-engine eval` (no store).

import { comparePolicies, runsAsPolicy, type CompiledPolicy } from '../compile/types.js';
import { CatalogueIndex } from '../messages/catalogue.js';
import { buildPlan, type PathPlan } from './plan.js';
import type { DocumentSource } from './decide.js';

export class LocalPolicies implements DocumentSource {
  private readonly byNamespace = new Map<string, CompiledPolicy[]>();
  /** message catalogues, by namespace and language */
  readonly catalogues: CatalogueIndex;

  private readonly keyed = new Map<string, CompiledPolicy>();
  /** plans by path, and by `#key` for one document */
  private readonly plans = new Map<string, PathPlan>();

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

  /** Namespaces holding documents that run (disabled ones included). */
  storedNamespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  pathPlan(path: string, namespaces: readonly string[]): PathPlan {
    let plan = this.plans.get(path);
    if (!plan) {
      plan = buildPlan(this.gather(namespaces));
      this.plans.set(path, plan);
    }
    return plan;
  }

  document(key: string): { policy: CompiledPolicy; plan: PathPlan } | undefined {
    const policy = this.keyed.get(key);
    if (!policy || !runsAsPolicy(policy)) return undefined;
    let plan = this.plans.get(`#${key}`);
    if (!plan) {
      plan = buildPlan([policy]);
      this.plans.set(`#${key}`, plan);
    }
    return { policy, plan };
  }
}
