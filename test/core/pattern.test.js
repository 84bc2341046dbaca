// Permission patterns (SPEC §2): the grammar, and property tests proving that
// `contains`, `overlaps`, `matches` and `minimize` agree with brute-force matching.
//
// Why the brute force is complete: two patterns over the alphabet {a, b, c} can only
// tell apart literals they name, so every other literal behaves like one fresh literal
// (`z`); and past max(segments)+1 every length behaves alike. Enumerating every
// permission over {a, b, c, z} of 1..MAX_LEN+1 segments therefore decides
// containment and overlap exactly.
import t from 'tap';
import fc from 'fast-check';
import { MAX_SEGMENTS, MAX_SEGMENT_LENGTH, contains, isConcretePermission, matchSegments, matches, minimize, mustParsePattern, overlaps, parsePattern, } from '../../src/core/pattern.js';
const P = mustParsePattern;
t.test('grammar: valid patterns', async (t) => {
    const valid = [
        'a',
        'document:read',
        'billing:invoice:write',
        'A.b/c-d_e:F9',
        '*',
        'a:*',
        '*:b',
        'a:*:c',
        '*:*',
        '*:*:*',
        Array.from({ length: MAX_SEGMENTS }, () => 'x').join(':'),
        Array.from({ length: MAX_SEGMENTS }, () => '*').join(':'),
        'x'.repeat(MAX_SEGMENT_LENGTH),
        `a:${'y'.repeat(MAX_SEGMENT_LENGTH)}:*`,
    ];
    for (const text of valid) {
        const p = parsePattern(text);
        t.not(typeof p, 'string', `${JSON.stringify(text)} is a valid pattern`);
        if (typeof p !== 'string')
            t.equal(p.text, text, 'keeps its text');
    }
    t.equal(MAX_SEGMENTS, 16);
    t.equal(MAX_SEGMENT_LENGTH, 64);
});
t.test('grammar: invalid patterns and their reasons', async (t) => {
    const cases = [
        ['', 'empty'],
        ['a::b', 'bad_segment'], // empty segment
        [':a', 'bad_segment'],
        ['a:', 'bad_segment'],
        [':', 'bad_segment'],
        [Array.from({ length: MAX_SEGMENTS + 1 }, () => 'x').join(':'), 'too_many_segments'],
        [Array.from({ length: MAX_SEGMENTS + 1 }, () => '*').join(':'), 'too_many_segments'],
        ['x'.repeat(MAX_SEGMENT_LENGTH + 1), 'bad_segment'],
        [`a:${'y'.repeat(MAX_SEGMENT_LENGTH + 1)}`, 'bad_segment'],
        ['a*', 'bad_segment'],
        ['*a', 'bad_segment'],
        ['**', 'bad_segment'],
        ['a:b*', 'bad_segment'],
        ['a b', 'bad_segment'],
        [' a', 'bad_segment'],
        ['a ', 'bad_segment'],
        ['a\n', 'bad_segment'],
        ['a\tb', 'bad_segment'],
        ['é', 'bad_segment'],
        ['文档:read', 'bad_segment'],
        ['a:\u0000', 'bad_segment'],
        ['doc#1', 'bad_segment'],
        ['a,b', 'bad_segment'],
        ['a?', 'bad_segment'],
    ];
    for (const [text, reason] of cases)
        t.equal(parsePattern(text), reason, `${JSON.stringify(text)} → ${reason}`);
    // Not a string at all (a caller bypassing the schema) is refused, not thrown on.
    t.equal(parsePattern(undefined), 'empty');
    t.equal(parsePattern(5), 'empty');
    t.throws(() => mustParsePattern('a::b'), /invalid permission pattern/);
});
t.test('grammar: structure of a parsed pattern', async (t) => {
    const shape = (p) => ({ text: p.text, segs: p.segs, rest: p.rest });
    t.strictSame(shape(P('*')), { text: '*', segs: [], rest: true });
    t.strictSame(shape(P('a:*')), { text: 'a:*', segs: ['a'], rest: true });
    t.strictSame(shape(P('*:b')), { text: '*:b', segs: [null, 'b'], rest: false });
    t.strictSame(shape(P('a:*:c')), { text: 'a:*:c', segs: ['a', null, 'c'], rest: false });
    t.strictSame(shape(P('*:*')), { text: '*:*', segs: [null], rest: true });
});
t.test('concrete permissions', async (t) => {
    t.ok(isConcretePermission('document:read'));
    t.ok(isConcretePermission('a'));
    t.notOk(isConcretePermission('*'));
    t.notOk(isConcretePermission('a:*'));
    t.notOk(isConcretePermission('*:a'));
    t.notOk(isConcretePermission(''));
    t.notOk(isConcretePermission('a::b'));
    t.notOk(isConcretePermission('a b'));
});
t.test('matching: worked examples', async (t) => {
    const yes = [
        ['*', 'a'],
        ['*', 'a:b:c'],
        ['a:*', 'a:b'],
        ['a:*', 'a:b:c'],
        ['*:b', 'x:b'],
        ['a:*:read', 'a:x:read'],
        ['*:*', 'a:b'],
        ['document:read', 'document:read'],
    ];
    const no = [
        ['a:*', 'a'], // a tail `*` matches one or more segments
        ['a:*', 'b:c'],
        ['*:b', 'x:y:b'], // a middle `*` matches exactly one
        ['*:b', 'b'],
        ['a:*:read', 'a:x:y:read'],
        ['a:*:read', 'a:x:write'],
        ['*:*', 'a'],
        ['document:read', 'document:read:x'],
        ['document:read', 'document'],
        ['Document:read', 'document:read'], // case-sensitive
    ];
    for (const [p, x] of yes)
        t.ok(matches(P(p), x), `${p} matches ${x}`);
    for (const [p, x] of no)
        t.notOk(matches(P(p), x), `${p} does not match ${x}`);
    t.ok(contains(P('a:*'), P('a:b:c')), 'a:* covers a:b:c');
    t.notOk(contains(P('a:b:c'), P('a:*')));
    t.ok(contains(P('*'), P('*:*')), '* covers *:* (lengths >= 2)');
    t.notOk(contains(P('*:*'), P('*')), '*:* does not cover * (misses 1-segment permissions)');
    t.ok(contains(P('a:*'), P('a:*:*')));
    t.notOk(contains(P('a:*:c'), P('a:*')));
    t.ok(overlaps(P('a:*:read'), P('a:x:*')));
    t.notOk(overlaps(P('a:*'), P('a')));
    t.notOk(overlaps(P('*:b'), P('a:*:*')), 'exactly 2 segments vs at least 3');
});
// ---------------------------------------------------------------- brute force
const ALPHABET = ['a', 'b', 'c'];
const FRESH = 'z';
const MAX_LEN = 3;
/** Every concrete permission over the alphabet plus one fresh literal, 1..MAX_LEN+1 segments. */
const UNIVERSE = (() => {
    const letters = [...ALPHABET, FRESH];
    const out = [];
    let layer = [[]];
    for (let len = 1; len <= MAX_LEN + 1; len++) {
        layer = layer.flatMap((prefix) => letters.map((l) => [...prefix, l]));
        out.push(...layer);
    }
    return out;
})();
/** An independent matcher: the pattern as a regular expression over the text. */
function regexOf(text) {
    const parts = text.split(':');
    const body = parts
        .map((s, i) => (s !== '*' ? s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&') : i === parts.length - 1 ? '[^:]+(?::[^:]+)*' : '[^:]+'))
        .join(':');
    return new RegExp(`^${body}$`);
}
const segment = fc.constantFrom(...ALPHABET, '*');
const patternText = fc.array(segment, { minLength: 1, maxLength: MAX_LEN }).map((s) => s.join(':'));
const pattern = patternText.map((s) => P(s));
const permissionText = fc.constantFrom(...UNIVERSE.map((s) => s.join(':')));
function matchedSet(ps) {
    return UNIVERSE.map((x) => ps.some((p) => matchSegments(p, x)));
}
const RUNS = 20_000;
let propertyRuns = 0;
const counted = (arb) => arb.map((v) => {
    propertyRuns++;
    return v;
});
t.test('properties (brute force over the alphabet)', async (t) => {
    t.comment(`universe: ${UNIVERSE.length} concrete permissions over {${[...ALPHABET, FRESH].join(', ')}}, 1..${MAX_LEN + 1} segments`);
    t.test('contains(a, b) ⇔ every permission b matches, a matches', async (t) => {
        fc.assert(fc.property(counted(fc.tuple(pattern, pattern)), ([a, b]) => {
            const brute = UNIVERSE.every((x) => !matchSegments(b, x) || matchSegments(a, x));
            return contains(a, b) === brute;
        }), { numRuns: RUNS });
        t.pass(`${RUNS} runs`);
    });
    t.test('overlaps(a, b) ⇔ some permission matched by both; symmetric', async (t) => {
        fc.assert(fc.property(counted(fc.tuple(pattern, pattern)), ([a, b]) => {
            const brute = UNIVERSE.some((x) => matchSegments(a, x) && matchSegments(b, x));
            return overlaps(a, b) === brute && overlaps(b, a) === brute;
        }), { numRuns: RUNS });
        t.pass(`${RUNS} runs`);
    });
    t.test('matches is consistent with matchSegments, a regex, contains and overlaps', async (t) => {
        fc.assert(fc.property(counted(fc.tuple(patternText, permissionText)), ([text, x]) => {
            const p = P(text);
            const m = matches(p, x);
            const concrete = P(x);
            return (m === matchSegments(p, x.split(':')) &&
                m === regexOf(text).test(x) &&
                m === contains(p, concrete) &&
                m === overlaps(p, concrete));
        }), { numRuns: RUNS });
        t.pass(`${RUNS} runs`);
    });
    t.test('contains is reflexive and transitive; contains implies overlaps', async (t) => {
        fc.assert(fc.property(counted(fc.tuple(pattern, pattern, pattern)), ([a, b, c]) => {
            if (!contains(a, a) || !overlaps(a, a))
                return false;
            if (contains(a, b) && !overlaps(a, b))
                return false;
            if (contains(a, b) && contains(b, c) && !contains(a, c))
                return false;
            // Mutual containment means the very same pattern.
            if (contains(a, b) && contains(b, a) && a.text !== b.text)
                return false;
            return true;
        }), { numRuns: RUNS });
        t.pass(`${RUNS} runs`);
    });
    t.test('minimize keeps the matched set; output sorted, unique, irredundant, from the input', async (t) => {
        const MIN_RUNS = 20_000;
        fc.assert(fc.property(counted(fc.array(pattern, { maxLength: 6 })), (ps) => {
            const out = minimize(ps);
            const texts = out.map((p) => p.text);
            const sorted = [...texts].sort();
            if (JSON.stringify(texts) !== JSON.stringify(sorted))
                return false;
            if (new Set(texts).size !== texts.length)
                return false;
            if (!texts.every((x) => ps.some((p) => p.text === x)))
                return false;
            for (const p of out)
                for (const q of out)
                    if (p !== q && contains(p, q))
                        return false;
            return JSON.stringify(matchedSet(out)) === JSON.stringify(matchedSet(ps));
        }), { numRuns: MIN_RUNS });
        t.pass(`${MIN_RUNS} runs`);
    });
    t.test('longer patterns: contains/overlaps against brute force with a wider universe', async (t) => {
        // Up to 5 segments over {a, b} plus the fresh literal, lengths 1..6.
        const letters = ['a', 'b', FRESH];
        const universe = [];
        let layer = [[]];
        for (let len = 1; len <= 6; len++) {
            layer = layer.flatMap((prefix) => letters.map((l) => [...prefix, l]));
            universe.push(...layer);
        }
        const seg = fc.constantFrom('a', 'b', '*');
        const pat = fc.array(seg, { minLength: 1, maxLength: 5 }).map((s) => P(s.join(':')));
        const WIDE_RUNS = 20_000;
        fc.assert(fc.property(counted(fc.tuple(pat, pat)), ([a, b]) => {
            const c = universe.every((x) => !matchSegments(b, x) || matchSegments(a, x));
            const o = universe.some((x) => matchSegments(a, x) && matchSegments(b, x));
            return contains(a, b) === c && overlaps(a, b) === o;
        }), { numRuns: WIDE_RUNS });
        t.pass(`${WIDE_RUNS} runs`);
    });
});
t.test('exhaustive: every pair of patterns of 1..3 segments over {a, b, c, *}', async (t) => {
    const all = [];
    let layer = [[]];
    for (let len = 1; len <= MAX_LEN; len++) {
        layer = layer.flatMap((prefix) => [...ALPHABET, '*'].map((l) => [...prefix, l]));
        all.push(...layer.map((s) => P(s.join(':'))));
    }
    const sets = all.map((p) => UNIVERSE.map((x) => matchSegments(p, x)));
    let pairs = 0;
    const wrong = [];
    all.forEach((a, i) => {
        all.forEach((b, j) => {
            pairs++;
            const sa = sets[i];
            const sb = sets[j];
            const c = sb.every((m, k) => !m || sa[k]);
            const o = sb.some((m, k) => m && sa[k]);
            if (contains(a, b) !== c)
                wrong.push(`contains(${a.text}, ${b.text}) should be ${c}`);
            if (overlaps(a, b) !== o)
                wrong.push(`overlaps(${a.text}, ${b.text}) should be ${o}`);
        });
    });
    t.strictSame(wrong.slice(0, 20), [], 'contains and overlaps agree with brute force on every pair');
    t.comment(`${all.length} patterns, ${pairs} pairs checked exhaustively`);
});
t.test('run count', async (t) => {
    t.comment(`fast-check generated ${propertyRuns} cases in total`);
    t.ok(propertyRuns >= 4 * RUNS, 'at least 20k runs per main property');
});
