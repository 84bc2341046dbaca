import type { CompiledPolicy } from '../src/core/compile/types.js';
import type { PolicyDocument } from '../src/core/document/types.js';
export declare const ROLES: string[];
export declare function makeDocument(ns: string, i: number, rulesPerDoc?: number): PolicyDocument;
export declare function compileAll(docs: PolicyDocument[]): CompiledPolicy[];
/** `namespaces` × `docsPerNamespace` documents, in run order. */
export declare function makePath(namespaces: string[], docsPerNamespace: number, rulesPerDoc?: number): CompiledPolicy[];
