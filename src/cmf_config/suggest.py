"""'Did you mean' suggestions for unknown names."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to `n` candidates that look like `name`, best first."""
    import difflib  # here: only a name that is unknown needs it, not every start-up

    pool = sorted(set(candidates))
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.55)
    if not found:
        lowered = name.lower()
        found = [c for c in pool if lowered and (lowered in c.lower() or c.lower() in lowered)][:n]
    return found


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Render a '; did you mean ...?' suffix, or '' when nothing is close."""
    found = closest(name, candidates)
    if not found:
        return ""
    quoted = " or ".join(f"'{c}'" for c in found)
    return f"; did you mean {quoted}?"
