// What a request says about who and what, as sent (before validation): shared by the
// request contract (core/request.ts) and the cases of test suites.

export type SubjectInput = string | { id: string; roles?: string[]; groups?: string[]; attributes?: Record<string, unknown> };

export interface ResourceInput {
  type?: string;
  id?: string;
  attributes?: Record<string, unknown>;
}
