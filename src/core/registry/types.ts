// The attribute registry (issue 3): a document declaring the attributes of the
// subject, the context and the resource, with types and limits. Conditions are
// type-checked against it when written; requests are validated against it.

export const ATTRIBUTE_TYPES = ['bool', 'string', 'string_list', 'number', 'ip', 'cidr', 'datetime'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

export interface AttributeDeclaration {
  type: AttributeType;
  required?: boolean;
  description?: string;
  /** strings: most characters; string_list: most characters of each item */
  maxLength?: number;
  /** string_list: most items */
  maxItems?: number;
}

export interface RegistryDocument {
  $schema?: string;
  key: string;
  namespace?: string;
  kind: 'registry';
  description?: string;
  subject?: Record<string, AttributeDeclaration>;
  context?: Record<string, AttributeDeclaration>;
  resource?: Record<string, AttributeDeclaration>;
  /** facts Lua scripts may emit with policy.emit(name, value); rules read them as facts.<name> */
  facts?: Record<string, AttributeDeclaration>;
}

export type AttributeScope = 'subject' | 'context' | 'resource' | 'facts';

export interface CompiledRegistry {
  readonly key: string;
  readonly document: RegistryDocument;
  readonly scopes: Readonly<Record<AttributeScope, ReadonlyMap<string, AttributeDeclaration>>>;
}

/** The CEL type an attribute has in conditions. */
export function celTypeOf(type: AttributeType): string {
  switch (type) {
    case 'bool':
      return 'bool';
    case 'string':
    case 'ip':
    case 'cidr':
      return 'string';
    case 'string_list':
      return 'list<string>';
    case 'number':
      return 'double';
    case 'datetime':
      return 'google.protobuf.Timestamp';
  }
}
