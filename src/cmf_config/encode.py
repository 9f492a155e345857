"""Problem + rules -> CNF whose auxiliary variables are all functionally defined.

Each slot value gets a variable (a boolean feature one variable), with exactly-one per slot.
Every expression gets a literal *equivalent* to it: connectives by Tseitin, atoms by a reduced
multi-valued decision diagram over the slots they read (sums and comparisons are grounded
there), cardinalities by a reified counter. Because no auxiliary variable is free, the models
of the CNF are exactly the configurations, so a model counter counts configurations.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from cmf_config.problem import Problem
from cmf_config.ruleeval import EPSILON
from cmf_config.rules import BOOL_OPS, IR, K, Op, Ref, bind, evaluate, ref_value, slots_of

PAIRWISE_LIMIT = 24


class Encoding:
    """A growing CNF over a problem; `lit(ir)` returns a literal equivalent to `ir`."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.nvars = 0
        self.clauses: list[list[int]] = []
        self.true = self.new_var()
        self.clauses.append([self.true])
        self.slot_lits: dict[str, list[int]] = {}
        self.order = {s.name: i for i, s in enumerate(problem.slots)}
        self._cache: dict[IR, int] = {}
        self._gates: dict[tuple[str, tuple[int, ...]], int] = {}
        for slot in problem.slots:
            if slot.is_bool:
                var = self.new_var()
                self.slot_lits[slot.name] = [-var, var]
            else:
                lits = [self.new_var() for _ in slot.values]
                self.slot_lits[slot.name] = lits
                self._exactly_one(lits)
        self.primary_vars = self.nvars

    def forget(self) -> None:
        """Encode the next expressions from scratch, sharing no gate with earlier ones (so
        each one's clauses define all the literals it needs: see `guarded.RuleSolver`)."""
        self._cache.clear()
        self._gates.clear()

    def new_var(self) -> int:
        """A fresh variable."""
        self.nvars += 1
        return self.nvars

    def _exactly_one(self, lits: Sequence[int]) -> None:
        if not lits:
            self.clauses.append([-self.true])
            return
        self.clauses.append(list(lits))
        if len(lits) <= PAIRWISE_LIMIT:
            for i, a in enumerate(lits):
                for b in lits[i + 1 :]:
                    self.clauses.append([-a, -b])
            return
        # Ladder: y_i <-> x_1 or ... or x_i (defined), and x_{i+1} -> not y_i.
        prev = lits[0]
        for x in lits[1:]:
            self.clauses.append([-x, -prev])
            y = self.new_var()
            self.clauses += [[-y, prev, x], [-prev, y], [-x, y]]
            prev = y

    # ------------------------------------------------------------- gates

    def and_(self, lits: Iterable[int]) -> int:
        """A literal equivalent to the conjunction."""
        items = sorted(set(lits))
        if -self.true in items or any(-x in items for x in items):
            return -self.true
        items = [x for x in items if x != self.true]
        if not items:
            return self.true
        if len(items) == 1:
            return items[0]
        key = ("and", tuple(items))
        found = self._gates.get(key)
        if found is not None:
            return found
        gate = self.new_var()
        for x in items:
            self.clauses.append([-gate, x])
        self.clauses.append([gate, *(-x for x in items)])
        self._gates[key] = gate
        return gate

    def or_(self, lits: Iterable[int]) -> int:
        """A literal equivalent to the disjunction."""
        return -self.and_(-x for x in lits)

    def iff(self, a: int, b: int) -> int:
        """A literal equivalent to a <-> b."""
        return self.or_([self.and_([a, b]), self.and_([-a, -b])])

    # ------------------------------------------------------------- expressions

    def lit(self, ir: IR) -> int:
        """A literal equivalent to a boolean expression."""
        found = self._cache.get(ir)
        if found is not None:
            return found
        result = self._lit(ir)
        self._cache[ir] = result
        return result

    def _lit(self, ir: IR) -> int:
        if isinstance(ir, K):
            return self.true if ir.value else -self.true
        if isinstance(ir, Ref) and self.problem.slot(ir.slot).is_bool and ir.attr is None:
            return self.slot_lits[ir.slot][1]
        if isinstance(ir, Op) and ir.op in BOOL_OPS and len(slots_of(ir)) > 1:
            return self._connective(ir)
        return self._diagram(ir)

    def _connective(self, ir: Op) -> int:
        op = ir.op
        if op == "not":
            return -self.lit(ir.args[0])
        if op == "and":
            return self.and_(self.lit(a) for a in ir.args)
        if op == "or":
            return self.or_(self.lit(a) for a in ir.args)
        if op == "=>":
            return self.or_([-self.lit(ir.args[0]), self.lit(ir.args[1])])
        if op == "<=>":
            return self.iff(self.lit(ir.args[0]), self.lit(ir.args[1]))
        first = ir.args[0]
        assert isinstance(first, K)
        assert isinstance(first.value, float)
        return self.cardinality(op, int(first.value), [self.lit(a) for a in ir.args[1:]])

    def cardinality(self, op: str, k: int, items: list[int]) -> int:
        """Reified counter: s[j] <-> 'at least j of the items so far are true'."""
        top = k + 1
        s = [self.true] + [-self.true] * top
        for item in items:
            nxt = [self.true]
            for j in range(1, top + 1):
                nxt.append(self.or_([s[j], self.and_([item, s[j - 1]])]))
            s = nxt
        at_least_k = s[k] if k <= top else -self.true
        more = s[k + 1]
        if op == "at_least":
            return at_least_k
        if op == "at_most":
            return -more
        return self.and_([at_least_k, -more])

    def _diagram(self, ir: IR) -> int:
        """Reduced decision diagram over the slots `ir` reads, in the problem's slot order."""
        if isinstance(ir, K):
            return self.true if ir.value else -self.true
        found = self._cache.get(ir)
        if found is not None:
            return found
        linear = self._linear_form(ir)
        if linear is not None:
            result = self._linear_diagram(*linear)
            self._cache[ir] = result
            return result
        slots = sorted(slots_of(ir), key=self.order.__getitem__)
        if not slots:  # reads no slot but is not folded yet (e.g. 1 + 1 > 0): fold it
            folded = bind(self.problem, ir, {})
            return self._diagram(folded) if isinstance(folded, K) else -self.true
        name = slots[0]
        slot_lits = self.slot_lits[name]
        if len(slots) == 1:  # binding the last slot folds `ir` to a constant: evaluate it
            t, f = self.true, -self.true
            children = [
                t if evaluate(self.problem, ir, {name: i}) else f for i in range(len(slot_lits))
            ]
        else:
            children = [
                self._diagram(bind(self.problem, ir, {name: i})) for i in range(len(slot_lits))
            ]
        result = self._select(slot_lits, children)
        self._cache[ir] = result
        return result

    def _select(self, slot_lits: list[int], children: list[int]) -> int:
        """A literal n <-> OR_v (x_v and child_v), given exactly one x_v holds."""
        if len(set(children)) == 1:
            return children[0]
        t, f = self.true, -self.true
        if all(c in (t, f) for c in children):
            trues = [x for x, c in zip(slot_lits, children, strict=True) if c == t]
            falses = [x for x, c in zip(slot_lits, children, strict=True) if c == f]
            if len(trues) == 1:
                return trues[0]
            if len(falses) == 1:
                return -falses[0]
        key = ("sel", (*tuple(slot_lits), 0, *tuple(children)))
        found = self._gates.get(key)
        if found is not None:
            return found
        node = self.new_var()
        for x, c in zip(slot_lits, children, strict=True):
            if c == t:
                self.clauses.append([-x, node])
            elif c == f:
                self.clauses.append([-x, -node])
            else:
                self.clauses += [[-x, -node, c], [-x, -c, node]]
        self._gates[key] = node
        return node

    # ------------------------------------------------------------- linear comparisons

    def _linear_terms(self, ir: IR, scale: float, out: dict[str, list[float]]) -> float | None:
        """Add scale * ir to `out` (per slot, per value); return the constant part or None."""
        if isinstance(ir, K):
            if isinstance(ir.value, int | float) and not isinstance(ir.value, bool):
                return scale * float(ir.value)
            return None
        if isinstance(ir, Ref):
            slot = self.problem.slot(ir.slot)
            values = [ref_value(self.problem, ir, i) for i in range(len(slot.values))]
            if not all(isinstance(v, float) for v in values):
                return None
            weights = out.setdefault(ir.slot, [0.0] * len(values))
            for i, value in enumerate(values):
                weights[i] += scale * float(value)  # type: ignore[arg-type]
            return 0.0
        if ir.op == "+":
            total = 0.0
            for arg in ir.args:
                part = self._linear_terms(arg, scale, out)
                if part is None:
                    return None
                total += part
            return total
        if ir.op == "-":
            left = self._linear_terms(ir.args[0], scale, out)
            right = self._linear_terms(ir.args[1], -scale, out)
            return None if left is None or right is None else left + right
        if ir.op == "neg":
            return self._linear_terms(ir.args[0], -scale, out)
        if ir.op == "*":
            a, b = ir.args
            if isinstance(a, K) and isinstance(a.value, float):
                return self._linear_terms(b, scale * a.value, out)
            if isinstance(b, K) and isinstance(b.value, float):
                return self._linear_terms(a, scale * b.value, out)
        return None

    def _linear_form(self, ir: IR) -> tuple[list[str], list[list[float]], float] | None:
        """Write `ir` as sum_i w_i[v_i] <= bound when it is a linear inequality over 3+ slots."""
        if not isinstance(ir, Op) or ir.op not in ("<", "<=", ">", ">="):
            return None
        if len(slots_of(ir)) < 3:
            return None
        weights: dict[str, list[float]] = {}
        left, right = ir.args
        sign = 1.0 if ir.op in ("<", "<=") else -1.0
        const = self._linear_terms(left, sign, weights)
        other = self._linear_terms(right, -sign, weights)
        if const is None or other is None:
            return None
        # sum + const + other (<=|<) 0  <=>  sum <= -(const + other) [+ EPSILON or - EPSILON]
        bound = -(const + other) + (EPSILON if ir.op in ("<=", ">=") else -EPSILON)
        slots = sorted(weights, key=self.order.__getitem__)
        return slots, [weights[s] for s in slots], bound

    def _linear_diagram(self, slots: list[str], weights: list[list[float]], bound: float) -> int:
        """Interval-reduced decision diagram of sum_i w_i[v_i] <= bound (Abio et al. 2012).

        Each node is the function 'the remaining sum is <= K' for every K of an interval;
        nodes whose intervals contain the same K are the same node, so the diagram stays
        small where partial sums are many.
        """
        inf = float("inf")
        levels = [_Level() for _ in range(len(slots) + 1)]
        last = len(slots)
        true_end, false_end = (0.0, inf, self.true), (-inf, 0.0, -self.true)

        def build(i: int, k: float) -> tuple[float, float, int]:
            if i == last:
                return true_end if k >= 0 else false_end
            level = levels[i]
            if level.sorted:  # `level.find(k)` written out: most calls end here
                at = bisect.bisect_right(level.los, k) - 1
                if at >= 0 and k < level.his[at]:
                    return level.nodes[at]
            else:
                found = level.find(k)
                if found is not None:
                    return found
            lo, hi = -inf, inf
            children: list[int] = []
            for w in weights[i]:
                c_lo, c_hi, child = build(i + 1, k - w)
                lo, hi = max(lo, c_lo + w), min(hi, c_hi + w)
                children.append(child)
            node = self._select(self.slot_lits[slots[i]], children)
            levels[i].add(lo, hi, node)
            return lo, hi, node

        return build(0, bound)[2]


class _Level:
    """The nodes of one level of an interval decision diagram, each with its interval [lo, hi)
    of bounds K: `find(k)` is the first node added whose interval holds k.

    The intervals of one level do not overlap (each is where one function of the remaining
    slots holds), so a binary search over them sorted by `lo` finds that node; should two
    ever overlap (rounding), the level falls back to scanning in the order they were added,
    which is the definition.
    """

    __slots__ = ("added", "his", "los", "nodes", "sorted")

    def __init__(self) -> None:
        self.added: list[tuple[float, float, int]] = []
        self.los: list[float] = []
        self.his: list[float] = []
        self.nodes: list[tuple[float, float, int]] = []
        self.sorted = True

    def find(self, k: float) -> tuple[float, float, int] | None:
        if not self.sorted:
            for lo, hi, node in self.added:
                if lo <= k < hi:
                    return lo, hi, node
            return None
        at = bisect.bisect_right(self.los, k) - 1
        if at >= 0 and k < self.his[at]:
            return self.nodes[at]
        return None

    def add(self, lo: float, hi: float, node: int) -> None:
        entry = (lo, hi, node)
        self.added.append(entry)
        if not self.sorted or not lo < hi:  # empty (or NaN): holds no k, found by neither way
            return
        at = bisect.bisect_left(self.los, lo)
        if (at > 0 and self.his[at - 1] > lo) or (at < len(self.los) and self.los[at] < hi):
            self.sorted = False  # overlapping intervals: scan them in order from now on
            return
        self.los.insert(at, lo)
        self.his.insert(at, hi)
        self.nodes.insert(at, entry)
