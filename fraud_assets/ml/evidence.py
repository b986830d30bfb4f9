"""How much evidence a day gives a drift or performance check, and the verdicts the watched checks reach from it
(pure functions, no Dagster).

A watched check requests a retraining when it fails, so its false alarms cost retrainings. Each check is a
statistical test at a level chosen from one budget (`EvidenceBudget`): the false retrainings a year the deployment
accepts, shared out over the days of a year and the watched checks (Bonferroni: the union of all the tests of a year
fails by chance with at most that expected count, whatever the correlation between them), and within a check over
the trailing windows it scans. Every test accounts for the uncertainty of its reference as well as the day's:
- counts in the champion's high-score tail are compared with the count its validation days gave by the exact
  conditional test of two Poisson rates (given the total, the day's share of it is binomial when the rates are
  equal), on fraud events, not rows: the rows of one fraud (a transfer and the cash-out of the same amount) come
  together, so row counts vary about twice as much as a Poisson count, while distinct amounts of a day do not;
- recall at the alert budget is an exact binomial test of the events caught against a floor;
- a feature drifts when its distance is past the drift threshold *and* a two-sample test (Kolmogorov-Smirnov for
  numbers, chi-square for categories) says it is not sampling noise (see `drift.py`).
A test that could not reach its level even with the most extreme outcome (a reference of four events, or two frauds
in a day) says "too little evidence" and neither passes nor fails by chance: it passes with that status.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

DAYS_PER_YEAR = 365
TOO_LITTLE_EVIDENCE = "too little evidence"


@dataclass(frozen=True)
class EvidenceBudget:
    """`false_retrainings_per_year` (FRAUD_FALSE_RETRAININGS_PER_YEAR): the expected retrainings a year that the watched
    checks may request by chance in a world without drift, shared over `watched_checks` checks judged once a day."""

    false_retrainings_per_year: float = 1.0
    watched_checks: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.false_retrainings_per_year < DAYS_PER_YEAR * self.watched_checks:
            raise ValueError("the false retrainings a year must be above 0 and below one per check and day, got "
                             f"{self.false_retrainings_per_year}")

    @property
    def level_per_check_day(self) -> float:
        """The significance level of one check's verdict on one day."""
        return self.false_retrainings_per_year / (DAYS_PER_YEAR * self.watched_checks)


@dataclass(frozen=True)
class Verdict:
    """A check's verdict on one day: passed, its status in words, and the figures behind it."""

    passed: bool
    status: str
    metadata: dict = field(default_factory=dict)

    @property
    def evidence(self) -> str:
        """One line naming the status and the figures a person needs to judge it (the retraining sensor quotes it)."""
        return self.metadata.get("evidence", self.status)


# ---- the statistics -------------------------------------------------------------------------------------------------

def rate_drop_p_value(count: int, rows: int, reference_count: int, reference_rows: int) -> float:
    """P-value that events happen at a lower rate in `rows` than in the reference's rows: exact conditional test of
    two Poisson rates (given the total count, the day's count is binomial with its share of the rows)."""
    share = rows / (rows + reference_rows)
    return float(stats.binom.cdf(count, count + reference_count, share))


def rate_rise_p_value(count: int, rows: int, reference_count: int, reference_rows: int) -> float:
    """P-value that events happen at a higher rate in `rows` than in the reference's rows (the same test)."""
    share = rows / (rows + reference_rows)
    return float(stats.binom.sf(count - 1, count + reference_count, share))


def smallest_drop_p_value(rows: int, reference_count: int, reference_rows: int) -> float:
    """The drop test's p-value if the day had no event at all: the most evidence of a drop the day can give."""
    return rate_drop_p_value(0, rows, reference_count, reference_rows)


def recall_shortfall_p_value(caught: int, fraud: int, floor: float) -> float:
    """P-value that recall is below `floor`, having caught `caught` of `fraud` (exact binomial test)."""
    return float(stats.binom.cdf(caught, fraud, floor))


def recall_interval(caught: int, fraud: int, level: float) -> tuple[float, float]:
    """Clopper-Pearson interval of recall with `level` in each tail (0..1 when there is no fraud)."""
    if fraud == 0:
        return 0.0, 1.0
    low = float(stats.beta.ppf(level, caught, fraud - caught + 1)) if caught > 0 else 0.0
    high = float(stats.beta.ppf(1 - level, caught + 1, fraud - caught)) if caught < fraud else 1.0
    return low, high


def fraud_events(day: np.ndarray, amount: np.ndarray) -> int:
    """Distinct (day, amount) among rows: the rows of one fraud, a transfer and the cash-out of its amount, count once.
    The warehouse's checks count `count(DISTINCT amount)` per day, the same thing."""
    if len(day) == 0:
        return 0
    return int(pd.DataFrame({"day": day, "amount": amount}).drop_duplicates().shape[0])


# ---- the score-drift check: the champion's high-score tail ----------------------------------------------------------

@dataclass(frozen=True)
class TailReference:
    """What the champion's validation days gave in its high-score tail (the card's `high_score_reference`), and the
    first days it scored after its window, when they join the reference (`split_tail_days`)."""

    rows: int  # validation rows (and live days' rows)
    events: int  # fraud events (distinct day and amount) scoring at or above the level
    live_days: tuple[int, ...] = ()

    @classmethod
    def of_card(cls, reference: dict | None) -> TailReference | None:
        if not reference:
            return None
        return cls(int(reference["validation_rows"]), int(reference["high_score_events"]))

    def describe(self) -> str:
        if not self.live_days:
            return "validation days"
        return f"validation days and live days {self.live_days[0]}-{self.live_days[-1]}"

    @property
    def rate(self) -> float:
        return self.events / self.rows if self.rows else float("nan")


@dataclass(frozen=True)
class TailDays:
    """Per judged day, oldest first and the judged day last: its rows and its fraud events in the tail."""

    days: list[int]
    rows: list[int]
    events: list[int]

    def trailing(self, width: int) -> tuple[list[int], int, int]:
        return self.days[-width:], int(sum(self.rows[-width:])), int(sum(self.events[-width:]))


def split_tail_days(scored: TailDays, validation: TailReference, judged_day: int, last_validation_day: int,
                    live_reference_days: int, scan_days: int) -> tuple[TailReference, TailDays]:
    """The reference and the judged window from the days the champion scored after its window, up to `judged_day`.

    The window is the judged day and the days before it, `scan_days` at most. The first `live_reference_days` days
    after the champion's window that are older than the window join its validation days in the reference: three
    validation days hold a few dozen fraud events at the demo scale, so the reference's own uncertainty would
    dominate, and out-of-sample days of the same champion are as good a measure of its tail. Only those first days:
    a later drift never enters the reference of the champion it is judged against.
    """
    first_window_day = min(judged_day, max(judged_day - scan_days + 1, last_validation_day + 1))
    last_live_day = min(last_validation_day + live_reference_days, first_window_day - 1)
    rows, events, live, window = validation.rows, validation.events, [], TailDays([], [], [])
    for day, day_rows, day_events in zip(scored.days, scored.rows, scored.events):
        if first_window_day <= day <= judged_day:
            window.days.append(day)
            window.rows.append(day_rows)
            window.events.append(day_events)
        elif last_validation_day < day <= last_live_day:
            rows, events = rows + day_rows, events + day_events
            live.append(day)
    return TailReference(rows, events, tuple(live)), window


def tail_shift_verdict(tail: TailDays, reference: TailReference, level: float, ratio_limit: float,
                       direction: str) -> Verdict:
    """Did the tail empty (`direction` "drop": fewer events than the reference rate predicts, by `ratio_limit` or
    more) or fill (`direction` "rise": more, by `ratio_limit` times or more)?

    Scans the trailing windows of the judged day (the day alone, with the day before, ...): a pattern that empties
    the tail is caught on its first day at high volume, and within the few days its evidence needs at low volume.
    The level is shared by the windows. The ratio is the effect a person would call drift; the p-value says it is
    not chance. "too little evidence" when no window could reach the level (a drop to zero events included).
    """
    windows = len(tail.days)
    window_level = level / windows
    test = rate_drop_p_value if direction == "drop" else rate_rise_p_value
    best = None
    for width in range(1, windows + 1):
        days, rows, events = tail.trailing(width)
        expected = reference.rate * rows
        ratio = events / expected if expected > 0 else float("inf")
        p_value = test(events, rows, reference.events, reference.rows)
        large = ratio <= ratio_limit if direction == "drop" else ratio >= ratio_limit
        candidate = (large and p_value < window_level, -np.log10(max(p_value, 1e-300)) * large, -width)
        if best is None or candidate > best[0]:
            best = (candidate, days, rows, events, expected, ratio, p_value)
    (shifted, _, _), days, rows, events, expected, ratio, p_value = best
    possible = (any(smallest_drop_p_value(tail.trailing(w)[1], reference.events, reference.rows) < window_level
                    for w in range(1, windows + 1)) if direction == "drop" else True)
    word = "emptied" if direction == "drop" else "filled"
    if shifted:
        status = f"tail {word}"
    elif not possible:
        status = TOO_LITTLE_EVIDENCE
    else:
        status = "within expectation"
    window = f"day {days[0]}" if len(days) == 1 else f"days {days[0]}-{days[-1]}"
    evidence = (f"{status}: {events} fraud events in the high-score tail on {window} against {expected:.2f} expected "
                f"from the {reference.describe()} (ratio {ratio:.2f}, limit {ratio_limit}), p {p_value:.2g} against "
                f"level {window_level:.2g}")
    if status == TOO_LITTLE_EVIDENCE:
        evidence += (f"; the reference has {reference.events} events, too few for even no event at all to be "
                     "significant")
    return Verdict(not shifted, status, {
        "status": status, "evidence": evidence, "window_days": window, "observed_events": events,
        "expected_events": round(expected, 3), "ratio": round(ratio, 3) if np.isfinite(ratio) else "inf",
        "ratio_limit": ratio_limit, "p_value": p_value, "level": window_level, "reference_events": reference.events,
        "reference_rows": reference.rows, "reference": reference.describe(), "rows": rows})


# ---- the recall check: matured labels at the alert budget -----------------------------------------------------------

@dataclass(frozen=True)
class RecallDays:
    """Per judged matured day, oldest first and the judged day last: fraud events and those alerted at the budget."""

    days: list[int]
    fraud: list[int]
    caught: list[int]


def recall_verdict(recall_days: RecallDays, floor: float, level: float) -> Verdict:
    """Is recall at the budget below `floor`? An exact binomial test of the fraud events caught, scanning the trailing
    windows of the judged day (the level shared by them): at a few frauds a day one day alone can never be judged,
    several together can. "too little evidence" when missing every fraud of the widest window would still not be
    significant."""
    windows = len(recall_days.days)
    window_level = level / windows
    best = None
    for width in range(1, windows + 1):
        fraud, caught = sum(recall_days.fraud[-width:]), sum(recall_days.caught[-width:])
        p_value = recall_shortfall_p_value(caught, fraud, floor) if fraud else 1.0
        candidate = (p_value < window_level, -p_value, -width)
        if best is None or candidate > best[0]:
            best = (candidate, recall_days.days[-width:], fraud, caught, p_value)
    (below, _, _), days, fraud, caught, p_value = best
    total_fraud = sum(recall_days.fraud)
    possible = total_fraud > 0 and recall_shortfall_p_value(0, total_fraud, floor) < window_level
    status = "recall below the floor" if below else ("within expectation" if possible else TOO_LITTLE_EVIDENCE)
    low, high = recall_interval(caught, fraud, window_level)
    recall = caught / fraud if fraud else float("nan")
    window = f"day {days[0]}" if len(days) == 1 else f"days {days[0]}-{days[-1]}"
    evidence = (f"{status}: {caught} of {fraud} fraud events caught at the budget on {window} (recall {recall:.2f}, "
                f"interval {low:.2f}-{high:.2f}, floor {floor}), p {p_value:.2g} against level {window_level:.2g}")
    if status == TOO_LITTLE_EVIDENCE:
        evidence += f"; {total_fraud} fraud events in {len(recall_days.days)} days are too few to judge"
    return Verdict(not below, status, {
        "status": status, "evidence": evidence, "window_days": window, "recall_at_budget": recall,
        "recall_floor": floor, "fraud_events": fraud, "caught_events": caught, "recall_interval_low": low,
        "recall_interval_high": high, "p_value": p_value, "level": window_level})


# ---- the feature-drift check ----------------------------------------------------------------------------------------

def feature_level(level: float, features: int, max_share: float) -> float:
    """Each feature's level so that the check (failing when `max_share` of `features` or more drifted) fails by chance
    with at most `level`: failing needs k = ceil(max_share * features) significant features, and by Markov's inequality
    P(k or more of them) <= features * feature_level / k."""
    needed = max(1, int(np.ceil(max_share * features - 1e-9)))
    return level * needed / features


def feature_drift_verdict(table: pd.DataFrame, max_share: float, level: float) -> Verdict:
    """The day's drift table (a row per monitored column: kind, score, threshold, p_value) judged: a feature drifted
    when its distance is past its threshold and its two-sample test is significant at the feature level."""
    features = table[table["kind"] != "score"]
    per_feature = feature_level(level, len(features), max_share)
    distant = features["score"] >= features["threshold"]
    significant = features["p_value"] < per_feature
    drifted = features[distant & significant]["column"].tolist()
    noise = features[distant & ~significant]["column"].tolist()
    share = len(drifted) / len(features) if len(features) else 0.0
    failed = share >= max_share
    status = "features drifted" if failed else "within expectation"
    evidence = (f"{status}: {len(drifted)} of {len(features)} features drifted ({', '.join(drifted) or 'none'}), "
                f"share {share:.2f} against {max_share}; past the distance threshold but within sampling noise at "
                f"feature level {per_feature:.2g}: {', '.join(noise) or 'none'}")
    return Verdict(not failed, status, {
        "status": status, "evidence": evidence, "share_drifted": share, "threshold": max_share,
        "drifted_features": ", ".join(drifted) or "none", "distant_but_noise": ", ".join(noise) or "none",
        "feature_level": per_feature})
