"""Account ids: random account numbers, the fixed pool of recurring destination customers, and the vectorised
formatting of numbers into PaySim's id strings ("C" or "M" and 9-10 digits)."""

from __future__ import annotations

import numpy as np

from fraud_assets.simulation import profiles as cal


class DestinationPool:
    """A fixed (per seed and scale) pool of destination customers: account k has id MIN + (k*MULT + offset) % SPAN,
    a bijection, so the pool's ids are distinct and stable across days."""

    _MULTIPLIER = 1_000_000_007  # prime, coprime with the id span
    _SPAN = cal.ACCOUNT_ID_END - cal.ACCOUNT_ID_MIN

    def __init__(self, seed: int, scale: float) -> None:
        self.size = max(1, round(cal.DEST_POOL_ACCOUNTS_AT_FULL_SCALE * scale))
        self.offset = int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0] % self._SPAN)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Ids of `n` pool accounts drawn uniformly."""
        account = rng.integers(0, self.size, n, dtype=np.int64)
        return cal.ACCOUNT_ID_MIN + (account * self._MULTIPLIER + self.offset) % self._SPAN


def random_account_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` account numbers drawn uniformly from PaySim's id range."""
    return rng.integers(cal.ACCOUNT_ID_MIN, cal.ACCOUNT_ID_END, n, dtype=np.int64)


def _group_table(texts: list[str]) -> np.ndarray:
    """Four-character ASCII texts as little-endian uint32 words (one word = one 4-byte slot of an id's text)."""
    return np.frombuffer("".join(texts).encode("ascii"), dtype="<u4")


_FOUR_DIGITS = _group_table([f"{value:04d}" for value in range(10_000)])
_HEADS = {  # prefix and first one or two digits, right-aligned in 4 characters, for numbers // 10**8 in 1..42
    prefix: _group_table([f"{prefix}{value}".rjust(4) if value else "    " for value in range(43)]) for prefix in "CM"
}
_SEPARATOR = _group_table(["    "])[0]


def format_account_ids(prefixes: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Object array of Python str ids ``chr(prefixes[i]) + str(numbers[i])``, prefixes "C" or "M" (as byte codes),
    for 10**8 <= numbers < 2**32 (PaySim's 9-10 digit ids).

    Vectorised: each id's text is built as four 4-byte words (separator, prefix with the leading digits, two groups
    of four digits) from lookup tables; the buffer is decoded once and split on whitespace, which creates the
    Python strings in C instead of one formatting call per id.
    """
    number = numbers.astype(np.uint32)
    high, low = np.divmod(number, np.uint32(10_000))
    head, middle = np.divmod(high, np.uint32(10_000))
    words = np.empty((number.size, 4), dtype="<u4")
    words[:, 0] = _SEPARATOR
    words[:, 1] = np.where(prefixes == ord("M"), _HEADS["M"][head], _HEADS["C"][head])
    words[:, 2] = _FOUR_DIGITS[middle]
    words[:, 3] = _FOUR_DIGITS[low]
    ids = np.empty(number.size, dtype=object)
    ids[:] = words.tobytes().decode("ascii").split()
    return ids
