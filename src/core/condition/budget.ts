// The cost budget of CEL evaluation: steps (work) and allocation (size of the strings,
// lists and maps a condition builds), counted while conditions run, so no caller-supplied
// expression can hold the event loop, whatever the size of its inputs or of the lists it
// makes (input bounds alone do not see `context.s.split("")`).
//
// One budget per decision: every condition and predicate of one evaluation draws on it
// (a ConditionRunner holds it). A condition that runs past it throws CEL_BUDGET_EXCEEDED;
// the rule then does not apply (a failed rule adds no grant and keeps its revoke and
// deny), and every later condition of the decision fails the same way at once.
//
// Costs are modelled on cel-go's runtime cost (the one Kubernetes bounds admission
// expressions with): one step per expression node evaluated, one per list element or map
// entry a function or operator goes through, one per 10 characters of a string it reads,
// and `matches` costs a quarter step per character × RE2 instruction. Counting is
// deterministic (no clock), so equal inputs always get equal outcomes and cached decisions
// stay right.

export interface CelLimits {
  /** steps one decision's conditions may take together */
  steps: number;
  /** characters, list elements and map entries its conditions may build together */
  allocation: number;
}

export const DEFAULT_CEL_LIMITS: Readonly<CelLimits> = Object.freeze({ steps: 50_000, allocation: 1_000_000 });

let configured: Readonly<CelLimits> = DEFAULT_CEL_LIMITS;

/** Set the limits budgets are made with (the composition root, from configuration). */
export function configureCelLimits(limits: Partial<CelLimits>): void {
  configured = Object.freeze({
    steps: limits.steps ?? DEFAULT_CEL_LIMITS.steps,
    allocation: limits.allocation ?? DEFAULT_CEL_LIMITS.allocation,
  });
}

export function celLimits(): Readonly<CelLimits> {
  return configured;
}

export const CEL_BUDGET_EXCEEDED = 'CEL_BUDGET_EXCEEDED';

export class CelBudgetError extends Error {
  readonly code = CEL_BUDGET_EXCEEDED;
  constructor(message: string) {
    super(message);
    this.name = 'CelBudgetError';
  }
}

export class CelBudget {
  /** remaining */
  steps: number;
  allocation: number;
  /** thrown at every charge once the budget is spent (one object: cheap to throw again) */
  error: CelBudgetError | undefined;

  constructor(readonly limits: Readonly<CelLimits> = configured) {
    this.steps = limits.steps;
    this.allocation = limits.allocation;
  }

  get exceeded(): boolean {
    return this.error !== undefined;
  }

  /** the CEL_BUDGET_EXCEEDED message once spent */
  reason(): string | undefined {
    return this.error?.message;
  }

  get stepsUsed(): number {
    return this.limits.steps - this.steps;
  }

  fail(what: 'steps' | 'allocation'): never {
    this.steps = -1;
    this.allocation = -1;
    this.error ??= new CelBudgetError(
      what === 'steps'
        ? `${CEL_BUDGET_EXCEEDED}: conditions took more than ${this.limits.steps} steps in this decision`
        : `${CEL_BUDGET_EXCEEDED}: conditions built more than ${this.limits.allocation} characters, elements and entries in this decision`,
    );
    throw this.error;
  }
}

/** The budget of the condition running now (evaluation is synchronous: a slot suffices). */
let current: CelBudget | undefined;

/** Run `f` drawing on `budget` (nested runs, e.g. predicates, share the outer one). */
export function withBudget<T>(budget: CelBudget, f: () => T): T {
  const previous = current;
  current = budget;
  try {
    return f();
  } finally {
    current = previous;
  }
}

export function activeBudget(): CelBudget | undefined {
  return current;
}

/** Take `n` steps from the running budget. */
export function chargeSteps(n: number): void {
  const b = current;
  if (b !== undefined && (b.steps -= n) < 0) b.fail('steps');
}

/** Record `n` characters / elements built. */
export function chargeAllocation(n: number): void {
  const b = current;
  if (b !== undefined && (b.allocation -= n) < 0) b.fail('allocation');
}

/** Steps left (0 when none is running: callers bound their walks by it). */
export function stepsLeft(): number {
  return current === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, current.steps);
}
