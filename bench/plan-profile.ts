// In-process profile of one plan miss (bench/plan.ts's first measure, without the answer
// cache): node --cpu-prof --cpu-prof-dir=DIR --import tsx bench/plan-profile.ts [n]
import { compile, localPlanner } from '../test/core/plan/helpers.js';
import { planDocuments, PLAN_REQUEST } from './plan-fixtures.js';

const n = Number(process.argv[2] ?? 20_000);
const planner = localPlanner(compile(...planDocuments()));
for (let i = 0; i < 1000; i++) planner.plan({ ...PLAN_REQUEST, context: { hour: i % 24 } });
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < n; i++) planner.plan({ ...PLAN_REQUEST, subject: { ...PLAN_REQUEST.subject, id: `user:u${i}` }, context: { hour: i % 24 } });
const cpu = process.cpuUsage(c0);
console.log(`${n} plans: ${((performance.now() - t0) / n).toFixed(3)} ms wall, ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms CPU each`);
