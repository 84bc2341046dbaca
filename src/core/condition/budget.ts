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

  /** `scope` names what ran out in the message: this decision's budget, or its request's total */
  constructor(readonly limits: Readonly<CelLimits> = configured, private readonly scope: 'decision' | 'request' = 'decision') {
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
        ? `${CEL_BUDGET_EXCEEDED}: conditions took more than ${this.limits.steps} steps in this ${this.scope}`
        : `${CEL_BUDGET_EXCEEDED}: conditions built more than ${this.limits.allocation} characters, elements and entries in this ${this.scope}`,
    );
    throw this.error;
  }
}

/** How many decisions' worth of budget one request that runs several (POST /v1/test) may use in all. */
export const REQUEST_DECISIONS = 4;

/**
 * A total over the decisions of one request: each decision gets its own budget, cut to
 * what the request has left (decisions run one after another, so the previous one's use
 * is final when the next starts).
 */
class RequestBudget {
  private steps: number;
  private allocation: number;
  private last: CelBudget | undefined;

  constructor(private readonly perDecision: Readonly<CelLimits>) {
    this.steps = perDecision.steps * REQUEST_DECISIONS;
    this.allocation = perDecision.allocation * REQUEST_DECISIONS;
  }

  next(): CelBudget {
    if (this.last) {
      this.steps -= this.last.limits.steps - Math.max(0, this.last.steps);
      this.allocation -= this.last.limits.allocation - Math.max(0, this.last.allocation);
    }
    const steps = Math.max(0, this.steps);
    const allocation = Math.max(0, this.allocation);
    const cut = steps < this.perDecision.steps || allocation < this.perDecision.allocation;
    this.last = cut
      ? new CelBudget({ steps: Math.min(steps, this.perDecision.steps), allocation: Math.min(allocation, this.perDecision.allocation) }, 'request')
      : new CelBudget(this.perDecision);
    return this.last;
  }
}

let request: RequestBudget | undefined;

/** Run `f`, a request that makes several decisions, under one total of REQUEST_DECISIONS decisions' budgets. */
export function withRequestBudget<T>(f: () => T): T {
  const previous = request;
  request = new RequestBudget(configured);
  try {
    return f();
  } finally {
    request = previous;
  }
}

/** The budget of a new decision: the configured limits, cut to what its request has left. */
export function decisionBudget(): CelBudget {
  return request ? request.next() : new CelBudget();
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

/** Make `budget` the running one; returns the previous, for leaveBudget (no closure: the hot path). */
export function enterBudget(budget: CelBudget): CelBudget | undefined {
  const previous = current;
  current = budget;
  return previous;
}

export function leaveBudget(previous: CelBudget | undefined): void {
  current = previous;
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
