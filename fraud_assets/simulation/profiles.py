"""Calibration constants of the PaySim simulator, and its hour-of-day and daily volume profiles.

Every figure here targets a line of the workspace's ``shared/paysim_facts.md`` (quoted in the comment next to it)
or, where the facts file gives no figure, a statistic measured on the real sample rows in ``shared/data/``
(``paysim_random_10k.csv``: 9,500 genuine rows drawn at random over the whole file; ``paysim_early_steps_1_119.csv``
where that sample is too small). No real row is stored here: only summary statistics.

Distributions of money values are log-linear quantile tables: ``knots[i]`` is the quantile at probability
``QUANTILE_GRID[i]``, and the simulator interpolates ``log(value)`` linearly between knots (an exact inverse CDF,
so a table reproduces the measured quantiles, including skewed and multi-modal shapes that a log-normal misses).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fraud_assets.core.schema import HOURS_PER_DAY, LAST_PAYSIM_STEP, TRANSACTION_TYPES, steps_of_day

VOLUME_PROFILES: tuple[str, ...] = ("steady", "paysim")

# ---------------------------------------------------------------------------------------------------------------
# Volume and mix (facts: "Volume and mix (full data set)")
# ---------------------------------------------------------------------------------------------------------------
PAYSIM_ROWS = 6_362_620  # facts: rows
PAYSIM_DAYS = 31  # facts: steps 1..743 are days 0..30
PAYSIM_FRAUD_ROWS = 8_213  # facts: fraud rows (0.129%)
# Genuine rows per type over the full file: the facts' type counts minus the fraud rows of that type
# (CASH_OUT 2,237,500 - 4,116; TRANSFER 532,909 - 4,097); they sum to 6,362,620 - 8,213 = 6,354,407.
GENUINE_ROWS_BY_TYPE: dict[str, int] = {
    "CASH_IN": 1_399_284,
    "CASH_OUT": 2_233_384,
    "DEBIT": 41_432,
    "PAYMENT": 2_151_495,
    "TRANSFER": 528_812,
}
PAYSIM_GENUINE_ROWS = sum(GENUINE_ROWS_BY_TYPE.values())

# Share of genuine rows per hour of day (hour = step % 24), in percent, index = hour: the genuine hour histogram of
# the random sample (9,500 rows over the whole file; hour 4, empty there, set to 0.02). Facts: "almost nothing at
# hours 3-6", "genuine traffic is almost absent from 2h to 8h and peaks at 18-20h (9-10% each)". (The facts table's
# "hour 19 and 20 about 12.9% each, 21 about 10.2%" disagrees with both real samples, which give 9.7% / 8.5% / 3.7%
# (random sample) and 9.1% / 7.5% / 3.9% (early steps) for hours 19 / 20 / 21; the samples are followed here.)
GENUINE_HOUR_PERCENT: tuple[float, ...] = (
    1.06, 0.41, 0.16, 0.04, 0.02, 0.03, 0.04, 0.14, 0.45, 4.06, 6.83, 6.76,
    7.83, 7.28, 7.42, 6.75, 7.44, 7.16, 9.04, 9.69, 8.51, 3.74, 2.84, 2.31,
)  # fmt: skip

# ---------------------------------------------------------------------------------------------------------------
# Genuine rows: amounts and balances per type
# ---------------------------------------------------------------------------------------------------------------
QUANTILE_GRID: tuple[float, ...] = (
    0.0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995, 1.0,
)  # fmt: skip

# Genuine amounts: quantiles of the real random sample's genuine rows (DEBIT: both samples, 383 rows), rescaled so
# that each table's mean is the facts' "mean by type": CASH_IN 166k, CASH_OUT 172k, DEBIT 5.2k, PAYMENT 12.8k,
# TRANSFER 870k (all rows; 865k for genuine transfers once the 4,097 fraud transfers averaging ~1.46M are removed;
# the sample's transfer tail is thinned to get there). Together with the type mix they give the facts' overall
# quartiles 13,390 / 74,872 / 208,722.
GENUINE_AMOUNT_KNOTS: dict[str, tuple[float, ...]] = {
    "CASH_IN": (
        101.2, 1527.0, 3069.0, 7900.0, 14400.0, 27310.0, 43430.0, 57050.0, 71150.0, 81360.0, 94330.0, 110800.0,
        126100.0, 140800.0, 158700.0, 178000.0, 195600.0, 212400.0, 237200.0, 262500.0, 297500.0, 331500.0,
        403900.0, 455000.0, 523300.0, 609700.0, 712900.0,
    ),
    "CASH_OUT": (
        141.0, 1311.0, 3180.0, 8252.0, 15460.0, 31370.0, 44300.0, 57400.0, 69970.0, 85910.0, 100200.0, 115700.0,
        130500.0, 146200.0, 162100.0, 180200.0, 201400.0, 222600.0, 248700.0, 272800.0, 310700.0, 346900.0,
        412300.0, 468700.0, 541800.0, 598000.0, 785400.0,
    ),
    "DEBIT": (
        19.33, 28.05, 46.85, 90.68, 266.6, 464.2, 884.3, 1249.0, 1721.0, 2028.0, 2398.0, 2773.0, 3084.0, 3447.0,
        3877.0, 4271.0, 4708.0, 5249.0, 5940.0, 6742.0, 7775.0, 9592.0, 13050.0, 19800.0, 38630.0, 72340.0,
        118500.0,
    ),
    "PAYMENT": (
        0.5904, 78.23, 188.6, 462.2, 902.9, 1714.0, 2465.0, 3361.0, 4261.0, 5271.0, 6164.0, 7227.0, 8221.0,
        9374.0, 10660.0, 12060.0, 13580.0, 15380.0, 17070.0, 19670.0, 22820.0, 27670.0, 37790.0, 44600.0,
        56190.0, 63360.0, 107400.0,
    ),
    "TRANSFER": (
        2412.0, 7701.0, 11820.0, 32400.0, 55620.0, 125100.0, 161000.0, 192700.0, 234200.0, 286800.0, 334800.0,
        385800.0, 430000.0, 486600.0, 570700.0, 661500.0, 752400.0, 870200.0, 990800.0, 1193000.0, 1449000.0,
        1798000.0, 2450000.0, 3069000.0, 7041000.0, 7885000.0, 24820000.0,
    ),
}  # fmt: skip
# Amounts depend on the hour: a row's amount is drawn at probability Phi(z + shift), z standard normal, with the
# shift below for its type and hour bucket (hours 0-8, 9-12, 13-16, 17-20, 21-23): payments and cash flows are
# larger around midday, transfers at night. Mean normal score of the amounts per hour bucket in the real samples.
AMOUNT_HOUR_BUCKET_LAST_HOURS: tuple[int, ...] = (8, 12, 16, 20, 23)
AMOUNT_HOUR_SHIFT: dict[str, tuple[float, ...]] = {
    "CASH_IN": (0.0, 0.11, 0.05, -0.09, -0.17),
    "CASH_OUT": (-0.17, 0.10, 0.08, -0.11, -0.12),
    "DEBIT": (-0.28, 0.26, 0.01, 0.0, -0.06),
    "PAYMENT": (-0.31, 0.18, 0.11, -0.11, -0.20),
    "TRANSFER": (0.33, 0.11, 0.01, -0.10, -0.10),
}
# Genuine transfers of exactly 10,000,000 (a genuine look-alike of the fraud cap): 2 of 754 genuine transfers in the
# random sample, 0 of 4,110 in the early-steps sample; pooled ~0.04%.
GENUINE_TRANSFER_AT_CAP_SHARE = 0.0005

# Origin balance before the transaction: share exactly 0, and quantiles of the positive values (random sample;
# DEBIT: both samples). With the type mix the zero shares give the facts' "oldbalanceOrg = 0: 33.0% of rows".
ORIGIN_ZERO_SHARE: dict[str, float] = {
    "CASH_IN": 0.0071,
    "CASH_OUT": 0.4600,
    "DEBIT": 0.1932,
    "PAYMENT": 0.3567,
    "TRANSFER": 0.5703,
}
ORIGIN_BALANCE_KNOTS: dict[str, tuple[float, ...]] = {
    "CASH_IN": (
        19.0, 100.4, 131.8, 272.2, 775.4, 7111.0, 15430.0, 22400.0, 36390.0, 55300.0, 109100.0, 253100.0,
        608200.0, 1096000.0, 1786000.0, 2655000.0, 3391000.0, 4296000.0, 5427000.0, 6740000.0, 8171000.0,
        9864000.0, 14910000.0, 19760000.0, 24080000.0, 26800000.0, 32800000.0,
    ),
    "CASH_OUT": (
        12.0, 69.48, 118.4, 176.2, 382.8, 1167.0, 3605.0, 6755.0, 10190.0, 11440.0, 15650.0, 20350.0, 22490.0,
        29910.0, 33920.0, 42700.0, 51530.0, 61600.0, 86100.0, 106700.0, 148100.0, 214500.0, 352800.0, 532200.0,
        845500.0, 891000.0, 2091000.0,
    ),
    "DEBIT": (
        2.0, 16.54, 39.52, 120.5, 233.2, 717.8, 1605.0, 4965.0, 8976.0, 11220.0, 15960.0, 20000.0, 21370.0,
        29780.0, 32430.0, 41570.0, 51270.0, 65010.0, 94550.0, 114700.0, 157400.0, 209200.0, 304000.0, 522500.0,
        764300.0, 970800.0, 1199000.0,
    ),
    "PAYMENT": (
        12.0, 72.72, 105.2, 220.6, 480.1, 1829.0, 5600.0, 10000.0, 11570.0, 15980.0, 20580.0, 24750.0, 30980.0,
        39180.0, 50180.0, 61160.0, 85660.0, 104000.0, 133500.0, 174200.0, 224500.0, 313000.0, 470500.0,
        586900.0, 792800.0, 898000.0, 4704000.0,
    ),
    "TRANSFER": (
        4.0, 62.98, 94.99, 146.0, 245.3, 877.6, 5046.0, 8447.0, 10770.0, 12830.0, 16040.0, 19820.0, 21980.0,
        30570.0, 39760.0, 50590.0, 60180.0, 79670.0, 107200.0, 138500.0, 174700.0, 244100.0, 385700.0,
        520500.0, 765100.0, 859800.0, 1709000.0,
    ),
}  # fmt: skip
# Origin balance after: CASH_IN adds the amount; the other types subtract it when the balance covers it and
# otherwise leave 0 (real rows never go negative). These give the facts' "newbalanceOrig = 0: 56.7%".

# Cent slips: where a new balance follows its rule by adding or subtracting the amount to a non-zero balance,
# PaySim's logs often show it 0.01 off, either way (half each); never when the old balance is 0. Share of such rows
# with a slip, by the old balance's size (below 1e5, 1e5-1e6, from 1e6), measured on both samples' genuine rows.
# They matter for the fidelity tool's error signs.
SLIP_BALANCE_EDGES: tuple[float, ...] = (1e5, 1e6)
ORIGIN_SLIP_SHARE: tuple[float, ...] = (0.05, 0.15, 0.26)
DEST_SLIP_SHARE: tuple[float, ...] = (0.24, 0.245, 0.25)

# Destination balance before: share exactly 0 and quantiles of the positive values (random sample; DEBIT: both
# samples). PAYMENT goes to merchants, whose balances are always 0/0 (facts). With the mix these give the facts'
# "oldbalanceDest = 0: 42.5%" and "newbalanceDest = 0: 38.3%".
DEST_ZERO_SHARE: dict[str, float] = {
    "CASH_IN": 0.1244,
    "CASH_OUT": 0.1469,
    "DEBIT": 0.0,
    "TRANSFER": 0.1034,
}
# In the real rows a destination is (almost) never empty when the origin is; with a funded origin the share of
# empty destinations depends on the origin balance (bands below 1e5, 1e5-1e6, above 1e6; random sample). Together
# these reproduce DEST_ZERO_SHARE.
ORIGIN_BALANCE_BAND_EDGES: tuple[float, ...] = (1e5, 1e6)
DEST_ZERO_SHARE_BY_ORIGIN_BAND: dict[str, tuple[float, ...]] = {
    "CASH_IN": (0.306, 0.124, 0.0),
    "CASH_OUT": (0.287, 0.221, 0.221),
    "DEBIT": (0.0, 0.0, 0.0),
    "TRANSFER": (0.265, 0.163, 0.163),
}
# CASH_IN from an origin holding at least 1e6: the destination balance always covers the amount (1,055 of 1,055
# such rows in the random sample, against 26% not covering below 1e5); drawn from the table above the amount.
CASH_IN_COVERED_FROM_ORIGIN_BALANCE = 1e6
# A positive destination balance is drawn at probability Phi(z), z = a * z_amount + e * (origin empty - its mean)
# + o * z_origin + noise (unit variance): least-squares fits of the real random sample's normal scores. Larger
# amounts go to richer destinations, and so do transactions from empty origins.
DEST_LATENT_AMOUNT_WEIGHT: dict[str, float] = {"CASH_IN": 0.19, "CASH_OUT": 0.156, "DEBIT": 0.0, "TRANSFER": 0.276}
DEST_LATENT_EMPTY_ORIGIN_WEIGHT: dict[str, float] = {
    "CASH_IN": 0.267,
    "CASH_OUT": 0.41,
    "DEBIT": 0.0,
    "TRANSFER": 0.756,
}
DEST_LATENT_ORIGIN_WEIGHT: dict[str, float] = {"CASH_IN": 0.191, "CASH_OUT": 0.027, "DEBIT": 0.0, "TRANSFER": 0.178}
DEST_BALANCE_KNOTS: dict[str, tuple[float, ...]] = {
    "CASH_IN": (
        43.0, 982.5, 9148.0, 22960.0, 51030.0, 104100.0, 159100.0, 209900.0, 269300.0, 335600.0, 411700.0,
        506400.0, 602300.0, 703100.0, 835500.0, 981500.0, 1172000.0, 1464000.0, 1863000.0, 2291000.0,
        2990000.0, 4083000.0, 6156000.0, 8999000.0, 13310000.0, 18630000.0, 45420000.0,
    ),
    "CASH_OUT": (
        34.16, 3042.0, 8879.0, 23510.0, 49130.0, 102900.0, 151700.0, 205500.0, 264500.0, 322000.0, 389300.0,
        471900.0, 563700.0, 668300.0, 810200.0, 972300.0, 1167000.0, 1467000.0, 1805000.0, 2262000.0,
        2975000.0, 4037000.0, 6731000.0, 9708000.0, 13100000.0, 18280000.0, 123500000.0,
    ),
    "DEBIT": (
        2062.0, 3711.0, 4744.0, 9508.0, 16540.0, 30440.0, 49710.0, 74730.0, 106900.0, 154800.0, 203900.0,
        278800.0, 380100.0, 463400.0, 616200.0, 816300.0, 1025000.0, 1307000.0, 1584000.0, 2063000.0,
        2701000.0, 3788000.0, 5748000.0, 7228000.0, 11160000.0, 13770000.0, 22160000.0,
    ),
    "TRANSFER": (
        164.2, 8199.0, 15760.0, 34900.0, 63840.0, 172800.0, 252100.0, 372000.0, 475800.0, 620100.0, 795300.0,
        1030000.0, 1164000.0, 1440000.0, 1748000.0, 2099000.0, 2390000.0, 3002000.0, 3818000.0, 4928000.0,
        6401000.0, 8358000.0, 11450000.0, 15900000.0, 29970000.0, 38200000.0, 166700000.0,
    ),
}  # fmt: skip
# Destination balance after: CASH_IN takes the amount from the destination (max(old - amount, 0)); CASH_OUT, DEBIT
# and TRANSFER add it. In a share of rows other same-step flows disturb the new balance by amount * L, L log-normal
# (log mean and sd below), upwards with the given probability, never below 0. Measured on the random sample's
# genuine rows (share of rows off the rule; share of those above it; log |disturbance / amount|). Facts: "balances
# that do not add up: common even in genuine rows".
DEST_DISTURBED_SHARE: dict[str, float] = {"CASH_IN": 0.081, "CASH_OUT": 0.103, "DEBIT": 0.071, "TRANSFER": 0.098}
DEST_DISTURBANCE_UP_SHARE: dict[str, float] = {"CASH_IN": 0.63, "CASH_OUT": 0.58, "DEBIT": 0.5, "TRANSFER": 0.74}
DEST_DISTURBANCE_LOG_MEAN: dict[str, float] = {"CASH_IN": 0.3, "CASH_OUT": 0.15, "DEBIT": 0.0, "TRANSFER": -1.0}
DEST_DISTURBANCE_LOG_SD: dict[str, float] = {"CASH_IN": 1.5, "CASH_OUT": 1.7, "DEBIT": 1.7, "TRANSFER": 2.0}

# Genuine look-alikes of the fraud pattern, among genuine TRANSFER and CASH_OUT rows (facts: "among genuine
# TRANSFER/CASH_OUT rows, none drains a positive balance exactly"; "oldbalanceDest == newbalanceDest == 0 ... only
# 0.06% of genuine TRANSFER/CASH_OUT rows"). None of ~26,000 such real sample rows drains exactly, which bounds the
# rate below ~0.012% (95%); 0.01% keeps a few per day at scale 1 so that a model cannot be perfect.
# amount == oldbalanceOrg and newbalanceOrig == 0; a draining TRANSFER goes to a fresh account (0/0 balances)
GENUINE_SELF_DRAIN_SHARE = 0.0001
GENUINE_FRESH_PAYEE_SHARE = 0.0006  # destination balances 0/0 (a new account), facts: 0.06%

# ---------------------------------------------------------------------------------------------------------------
# Fraud (facts: "The fraud pattern")
# ---------------------------------------------------------------------------------------------------------------
FRAUD_AMOUNT_CAP = 10_000_000.0  # facts: "fraud transactions ... stop at 10,000,000 per transaction"
# Balance of the taken-over account, drained in pieces of at most FRAUD_AMOUNT_CAP. Knots fitted so that the
# fraud rows (transfer and cash-out per piece) have the facts' amount quartiles 127k / 441k / 1.52M and 3.5% of
# fraud rows sit exactly at the cap; an account then yields 1.036 pieces on average.
FRAUD_BALANCE_GRID: tuple[float, ...] = (0.0, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 1.0)
FRAUD_BALANCE_KNOTS: tuple[float, ...] = (
    200.0, 3_000.0, 8_000.0, 18_000.0, 45_000.0, 122_000.0, 407_000.0, 1_310_000.0,
    3_530_000.0, 6_500_000.0, 8_920_000.0, 16_700_000.0, 46_500_000.0,
)  # fmt: skip
# The mule's CASH_OUT usually drains its own balance (facts: 97.8% of fraud rows have amount == oldbalanceOrg);
# in 1.9% of fraud cash-outs of both samples the mule's balance shows 0 before and after.
FRAUD_EMPTY_MULE_SHARE = 0.019
# Fraud transfers leave the mule's balances at 0/0 (97.6% of real fraud transfers); the rest record old 0, new amount.
FRAUD_TRANSFER_DEST_RECORDED_SHARE = 0.024
# Destination (cash-out agent) of fraud cash-outs: 32.7% hold 0 before (random sample); 10% of the new balances
# are disturbed by other flows, as for genuine rows (both samples; cent slips as for genuine rows come on top).
FRAUD_CASH_OUT_DEST_ZERO_SHARE = 0.327
FRAUD_CASH_OUT_DEST_DISTURBED_SHARE = 0.10

# isFlaggedFraud (facts: 16 rows, all fraud TRANSFERs, the smallest 353,874.22; the transfer is blocked: origin
# balance unchanged, destination balances 0). Rule: the bank monitors a few accounts; a fraud transfer of at least
# FLAG_MIN_AMOUNT out of a monitored account is blocked and flagged, and the fraudster gives up on that account
# (no cash-out, no further pieces). The monitored share makes the expected count 16 over the full file
# (~3,960 fraud accounts, 53% of whose first piece reaches FLAG_MIN_AMOUNT).
FLAG_MIN_AMOUNT = 353_874.22
FLAG_MONITORED_SHARE = 0.0076

# ---------------------------------------------------------------------------------------------------------------
# Account ids (facts: "nameOrig: always a customer, C followed by digits; 99.85% unique")
# ---------------------------------------------------------------------------------------------------------------
# Ids are uniform over [ACCOUNT_ID_MIN, 2**31), like PaySim's (Java int) ids: 9-10 digits, no leading zeros (the
# real samples also hold ~5% shorter ids). Drawn independently per row, 6.36M origins keep 99.85% distinct values
# over this range, as in the real file (6.36M**2 / (2 * 2.05e9) = 9,900 collisions).
ACCOUNT_ID_MIN = 100_000_000
ACCOUNT_ID_END = 2**31
# Genuine non-merchant destinations come from a fixed pool of accounts (per seed) so that they recur across rows
# and days, as PaySim's destination customers do; the pool grows with the scale.
DEST_POOL_ACCOUNTS_AT_FULL_SCALE = 570_000

# ---------------------------------------------------------------------------------------------------------------
# The "paysim" volume profile (facts: "volume over time", "fraud over time")
# ---------------------------------------------------------------------------------------------------------------
PAYSIM_BUSIEST_STEP = 19  # facts: "the busiest step (19) has 51,352 rows"
PAYSIM_BUSIEST_STEP_ROWS = 51_352
PAYSIM_EARLY_STEP_LIMIT = 400  # facts: "about 97% of genuine volume falls in steps <= 400"
PAYSIM_EARLY_GENUINE_SHARE = 0.97
PAYSIM_QUIET_STEPS: tuple[int, ...] = (112, 662)  # facts: "steps 112 and 662 only 2 each"
PAYSIM_QUIET_STEP_ROWS = 2.0  # expected rows there at scale 1: fraud only
PAYSIM_CLIFF_WIDTH_STEPS = 3.0  # width of the logistic drop after step 400
PAYSIM_STEP_DIP_MAX = 0.3  # per-step noise: each step sits 0-30% below the smooth envelope
PAYSIM_CURVE_SEED = 743  # the curve is one fixed shape, like the real file's, whatever the simulation seed


def genuine_hour_share() -> np.ndarray:
    """Share of genuine rows per hour of day (index = hour = step % 24), summing to 1."""
    share = np.asarray(GENUINE_HOUR_PERCENT, dtype=float)
    return share / share.sum()


def genuine_type_shares() -> np.ndarray:
    """Share of each type among genuine rows, aligned with TRANSACTION_TYPES."""
    counts = np.array([GENUINE_ROWS_BY_TYPE[t] for t in TRANSACTION_TYPES], dtype=float)
    return counts / counts.sum()


@lru_cache(maxsize=1)
def paysim_genuine_step_curve() -> np.ndarray:
    """Expected genuine rows per step at scale 1 under the "paysim" profile; index = step (index 0 unused).

    The curve is ``hour_share[step % 24] * dip[step] * envelope(step)``: a linear decline over steps 1-400, a
    logistic cliff just after step 400 and a flat tail, with ``dip`` a fixed per-step noise in [0.7, 1] (1 at
    step 19). The envelope's three coefficients (start level, slope, tail level) solve a 3x3 linear system so that
    the curve sums to PaySim's genuine rows, puts 97% of them in steps <= 400 and gives step 19 exactly 51,352 rows.
    As the noise only lowers steps below a non-increasing envelope and hour 19 is the busiest hour, step 19 is the
    busiest step. The quiet steps 112 and 662 hold no genuine rows (their 2 expected rows are fraud).
    """
    steps = np.arange(1, LAST_PAYSIM_STEP + 1)
    cliff = 1.0 / (1.0 + np.exp(-(steps - PAYSIM_EARLY_STEP_LIMIT - 0.5) / PAYSIM_CLIFF_WIDTH_STEPS))
    dip = 1.0 - PAYSIM_STEP_DIP_MAX * np.random.default_rng(PAYSIM_CURVE_SEED).random(steps.size)
    dip[steps == PAYSIM_BUSIEST_STEP] = 1.0
    shape = genuine_hour_share()[steps % HOURS_PER_DAY] * dip
    shape[np.isin(steps, PAYSIM_QUIET_STEPS)] = 0.0
    basis = np.stack(
        [(1 - cliff) * shape, (1 - cliff) * steps / PAYSIM_EARLY_STEP_LIMIT * shape, cliff * shape], axis=1
    )
    system = np.stack(
        [basis.sum(axis=0), basis[steps <= PAYSIM_EARLY_STEP_LIMIT].sum(axis=0), basis[PAYSIM_BUSIEST_STEP - 1]]
    )
    targets = [PAYSIM_GENUINE_ROWS, PAYSIM_EARLY_GENUINE_SHARE * PAYSIM_GENUINE_ROWS, PAYSIM_BUSIEST_STEP_ROWS]
    curve = np.zeros(LAST_PAYSIM_STEP + 2)
    curve[1 : LAST_PAYSIM_STEP + 1] = basis @ np.linalg.solve(system, targets)
    return curve


def expected_genuine_rows_per_step(day: int, volume_profile: str, scale: float) -> np.ndarray:
    """Expected genuine rows in each of the 24 steps of `day` (steps_of_day order)."""
    steps = np.asarray(steps_of_day(day))
    if volume_profile == "paysim":
        return paysim_genuine_step_curve()[np.minimum(steps, LAST_PAYSIM_STEP + 1)] * scale
    per_day = PAYSIM_GENUINE_ROWS / PAYSIM_DAYS * scale
    return per_day * genuine_hour_share()[steps % HOURS_PER_DAY]


def expected_fraud_rows_per_step(day: int, volume_profile: str, scale: float) -> np.ndarray:
    """Expected fraud rows in each of the 24 steps of `day`, spread evenly over the hours (facts: about 4% each hour).

    "steady": every day carries 1/31 of PaySim's fraud rows. "paysim": every step carries 1/743 of them (about 11),
    as in the real file, except the quiet steps (2 rows) and steps past 743 (none).
    """
    steps = np.asarray(steps_of_day(day))
    if volume_profile == "paysim":
        per_step = np.full(steps.size, PAYSIM_FRAUD_ROWS / LAST_PAYSIM_STEP)
        per_step[np.isin(steps, PAYSIM_QUIET_STEPS)] = PAYSIM_QUIET_STEP_ROWS
        per_step[steps > LAST_PAYSIM_STEP] = 0.0
        return per_step * scale
    return np.full(steps.size, PAYSIM_FRAUD_ROWS / PAYSIM_DAYS / HOURS_PER_DAY * scale)
