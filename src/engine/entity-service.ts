// The directory service (SPEC §12): what the /v1/entities routes call. Validates refs and
// bodies (every problem listed, nothing stored on any), writes through the store, and
// brings this replica's directory up to date before answering a write, so the next
// evaluation here already merges it. Other replicas follow within the poll interval.

import { parseText, type ParseLimits } from '../core/document/parse.js';
import type { DocumentFormat } from '../core/document/types.js';
import { MAX_IMPORT, entityEtag, parseEntityBody, refProblem, typeProblem, type EntityData, type StoredEntity } from '../core/entities/entity.js';
import { PolicyEngineError } from '../errors.js';
import { MAX_ENTITY_PAGE, type EntityPreconditions, type EntityWrite } from '../store/entity-store.js';
import type { EntityManager } from './entity-manager.js';
import { storeCall } from './store-errors.js';

const STORE = 'the directory store';

export interface EntityServiceOptions {
  manager: EntityManager;
  parseLimits: ParseLimits;
}

/** An entity as the API shows it. */
export interface EntityView {
  ref: string;
  roles: string[];
  groups: string[];
  attributes: Record<string, unknown>;
  etag: string;
  revision: string;
  updatedAt: string;
}

export function viewOf(e: StoredEntity): EntityView {
  return { ref: e.ref, roles: [...e.roles], groups: [...e.groups], attributes: { ...e.attributes }, etag: entityEtag(e.revision), revision: e.revision, updatedAt: e.updatedAt };
}

function checkRef(ref: string): void {
  const problem = refProblem(ref);
  if (problem !== undefined) throw new PolicyEngineError('ENTITY_REF_INVALID', problem);
}

export class EntityService {
  constructor(private readonly options: EntityServiceOptions) {}

  get manager(): EntityManager {
    return this.options.manager;
  }

  private get store() {
    return this.options.manager.store;
  }

  /** Bring this replica up to date after a write (best effort: the poll follows anyway). */
  private async caughtUp(): Promise<void> {
    await this.options.manager.syncAfter();
  }

  async put(ref: string, body: unknown, preconditions: EntityPreconditions): Promise<{ entity: EntityView; created: boolean }> {
    checkRef(ref);
    const parsed = parseEntityBody(body, true);
    if (!parsed.ok) throw new PolicyEngineError('ENTITY_INVALID', parsed.errors.join('; ').slice(0, 1000), parsed.errors.slice(0, 50));
    const sentRef = (body as { ref?: unknown }).ref;
    if (sentRef !== undefined && sentRef !== ref) throw new PolicyEngineError('ENTITY_INVALID', `the body names ref ${JSON.stringify(String(sentRef).slice(0, 300))}, the URL ${ref}`);
    const r = await storeCall(STORE, () => this.store.put(ref, parsed.entity, preconditions));
    await this.caughtUp();
    return { entity: viewOf(r.entity), created: r.created };
  }

  async get(ref: string): Promise<EntityView> {
    checkRef(ref);
    const e = await storeCall(STORE, () => this.store.get(ref));
    if (!e) throw new PolicyEngineError('ENTITY_NOT_FOUND', `no entity ${ref}`);
    return viewOf(e);
  }

  async delete(ref: string, preconditions: EntityPreconditions): Promise<void> {
    checkRef(ref);
    const r = await storeCall(STORE, () => this.store.delete(ref, preconditions));
    if (r === false) throw new PolicyEngineError('ENTITY_NOT_FOUND', `no entity ${ref}`);
    await this.caughtUp();
  }

  async list(type: string | undefined, cursor: string | undefined, limit: number): Promise<{ items: EntityView[]; cursor: string | null }> {
    if (type !== undefined) {
      const problem = typeProblem(type);
      if (problem !== undefined) throw new PolicyEngineError('ENTITY_REF_INVALID', problem);
    }
    if (cursor !== undefined && refProblem(cursor) !== undefined) throw new PolicyEngineError('ENTITY_REF_INVALID', 'the cursor is not one this list returned');
    const page = await storeCall(STORE, () => this.store.list({ ...(type !== undefined ? { type } : {}), ...(cursor !== undefined ? { after: cursor } : {}), limit: Math.min(MAX_ENTITY_PAGE, limit) }));
    return { items: page.entities.map(viewOf), cursor: page.next ?? null };
  }

  /**
   * A JSON array or a YAML stream of `{ ref, roles?, groups?, attributes? }`: every one
   * validated (all problems listed) before any is written, then one atomic write.
   */
  async import(text: string, format: DocumentFormat): Promise<{ created: number; replaced: number; refs: string[]; revision: string }> {
    const items = this.parseImport(text, format);
    const errors: Array<{ index: number; ref?: string; message: string }> = [];
    const writes: EntityWrite[] = [];
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const ref = (item as { ref?: unknown } | null)?.ref;
      const problem = refProblem(ref);
      if (problem !== undefined) {
        errors.push({ index, message: `ref: ${problem}` });
        return;
      }
      const r = ref as string;
      if (seen.has(r)) errors.push({ index, ref: r, message: `${r} appears more than once` });
      seen.add(r);
      const parsed = parseEntityBody(item, true);
      if (!parsed.ok) for (const message of parsed.errors) errors.push({ index, ref: r, message });
      else writes.push({ ref: r, entity: parsed.entity as EntityData });
    });
    if (errors.length > 0) {
      throw new PolicyEngineError('ENTITY_INVALID', `${errors.length} problem(s); nothing was written: ${errors.slice(0, 5).map((e) => `#${e.index}${e.ref ? ` ${e.ref}` : ''}: ${e.message}`).join('; ')}`.slice(0, 1000), errors.slice(0, 100));
    }
    const r = await storeCall(STORE, () => this.store.import(writes));
    await this.caughtUp();
    return { created: r.created, replaced: r.replaced, refs: writes.map((w) => w.ref), revision: r.revision };
  }

  private parseImport(text: string, format: DocumentFormat): unknown[] {
    let items: unknown[];
    if (format === 'json') {
      const parsed = parseText(text, 'json', this.options.parseLimits);
      if (!parsed.ok) throw new PolicyEngineError('BODY_MALFORMED', parsed.errors.map((e) => e.message).join('; ').slice(0, 500));
      const doc = parsed.documents[0]?.value;
      if (!Array.isArray(doc)) throw new PolicyEngineError('ENTITY_INVALID', 'a JSON import is an array of entities { ref, roles?, groups?, attributes? }');
      items = doc;
    } else {
      const parsed = parseText(text, 'yaml', this.options.parseLimits, true);
      if (!parsed.ok) throw new PolicyEngineError('BODY_MALFORMED', parsed.errors.map((e) => e.message).join('; ').slice(0, 500));
      items = parsed.documents.map((d) => d.value).filter((v) => v !== null && v !== undefined);
    }
    if (items.length === 0) throw new PolicyEngineError('ENTITY_INVALID', 'the import holds no entity');
    if (items.length > MAX_IMPORT) throw new PolicyEngineError('ENTITY_INVALID', `an import holds at most ${MAX_IMPORT} entities, this one ${items.length}`);
    return items;
  }
}
