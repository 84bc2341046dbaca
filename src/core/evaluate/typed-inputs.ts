// Request inputs checked against the attribute registry in force: a wrong type, a
// missing required attribute or a broken limit is a 400 naming each attribute.

import type { EvaluationInput, Resource, Subject } from './types.js';
import type { CompiledRegistry } from '../registry/types.js';
import { validateScope, type InputProblem } from '../registry/validate-input.js';
import { PolicyEngineError } from '../../errors.js';

type Inputs = Pick<EvaluationInput, 'subject' | 'resource' | 'context'>;

export function typeInputs(registry: CompiledRegistry | undefined, input: Inputs): Inputs & { typedInputs?: boolean } {
  if (!registry) return input;
  const problems: InputProblem[] = [];
  const attributes = validateScope(registry, 'subject', input.subject.attributes, 'subject.attributes', problems);
  const context = validateScope(registry, 'context', input.context, 'context', problems);
  const resourceAttributes = validateScope(registry, 'resource', input.resource?.attributes, 'resource.attributes', problems);
  if (problems.length > 0) {
    const list = problems.slice(0, 50);
    throw new PolicyEngineError('ATTRIBUTE_INVALID', list.map((p) => `${p.attribute} ${p.message}`).join('; ').slice(0, 1000), list);
  }
  const subject: Subject = { ...input.subject, attributes };
  const resource: Resource = { ...(input.resource ?? {}), attributes: resourceAttributes };
  return { subject, resource, context, typedInputs: true };
}
