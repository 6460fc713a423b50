"""Ward explorer logic (no Streamlit): which indicators have ward data, ranking, and the
comparison of two wards with each other, Derby and England, with their deprivation context.

Inputs are the frames of `derby_oa.queries.wards`. A missing value stays missing ("no data"): it
is never ranked, coloured or compared as zero.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from derby_oa import config, formatting, stats, vocabulary
from derby_oa.storage import store

PLAN, CURRENT = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
VINTAGES = (PLAN, CURRENT)
VINTAGE_LABELS = {PLAN: "17 wards, 2003-2023 (plan period)", CURRENT: "18 wards from May 2023"}
DEFAULT_INDICATOR = "gld"
BREAKDOWN_LABELS = vocabulary.PUPIL_GROUPS
DEFAULT_PAIR = ("Arboretum", "Allestree")  # the plan's example of the gap (GLD 2015/16)
NO_DATA = vocabulary.NO_DATA_LABEL
METHODS_PATH = config.PROJECT_ROOT / "docs" / "methods-wards.md"

# Deprivation and population context shown beside a comparison, in this order, with labels.
CONTEXT_LABELS = {
    "imd_decile": "IMD 2019 decile (1 = most deprived)",
    "imd_most_deprived_decile_share": "LSOAs in England's most deprived 10%",
    "imd_rank": "IMD 2019 rank (1 = most deprived of 32,844)",
    "population_total": "Population, mid-2015",
    "population_0_15": "Children aged 0-15, mid-2015",
}
CONTEXT_NOTE = ("Ward IMD deciles and ranks are population-weighted means of the ward's LSOAs (not official "
                "ward figures); there is no such figure for Derby or England. Source: MHCLG, English Indices "
                "of Deprivation 2019 (Files 1 and 6).")
# Preferred order of ward indicators after any non-context (outcome) indicator.
CONTEXT_ORDER = ("imd_decile", "imd_most_deprived_decile_share", "imd_rank", "iod_income_decile",
                 "iod_employment_decile", "iod_education_decile", "iod_health_decile", "iod_crime_decile",
                 "iod_housing_decile", "iod_living_env_decile", "population_0_15", "population_total")

SMALL_NUMBERS = ("Ward figures rest on small numbers: a Derby ward has a few hundred children in each year "
                 "group, so one child moves a ward's percentage by a third to a half of a point and a ward's figure can "
                 "change by several points from one year to the next by chance alone. The plan's ward figures "
                 "come without counts, so no confidence interval can be given for them.")
BEST_FIT_2023 = ("Figures for the May 2023 wards are built from LSOAs assigned by their centroid; LSOAs do not "
                 "nest in these wards, so the figures are approximations (see Methods).")


# --- indicators -----------------------------------------------------------------------------------

def indicator_options(available: pd.DataFrame, vintage: str) -> list[str]:
    """Indicator ids with ward values on `vintage` (from queries.wards.ward_indicators): outcome
    indicators first (in the query's order), then the context indicators in CONTEXT_ORDER."""
    ids = list(dict.fromkeys(available.loc[available["vintage"] == vintage, "indicator_id"]))
    order = {ind: i for i, ind in enumerate(CONTEXT_ORDER)}
    outcome = [i for i in ids if i not in order]
    context = sorted((i for i in ids if i in order), key=order.get)
    return outcome + context


def default_indicator(options: list[str]) -> str | None:
    """GLD when it has ward data, else the first option (None when there is none)."""
    return DEFAULT_INDICATOR if DEFAULT_INDICATOR in options else (options[0] if options else None)


def indicator_notice(available: pd.DataFrame, vintage: str, requested: str | None,
                     titles: Mapping[str, str]) -> str | None:
    """Why a requested indicator is not offered on `vintage`, or None when it is (or none was asked)."""
    if not requested or requested in indicator_options(available, vintage):
        return None
    name = titles.get(requested, requested)
    others = [v for v in VINTAGES if v != vintage and requested in indicator_options(available, v)]
    if others:
        return (f"{name} has no ward figures on the {VINTAGE_LABELS[vintage]}; it has figures on the "
                f"{VINTAGE_LABELS[others[0]]}. Switch the ward boundaries to see them.")
    return f"{name} has no ward figures in this database."


# --- values and ranking ---------------------------------------------------------------------------

def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def fmt(value, meta: Mapping) -> str:
    """A value as text in the indicator's unit and decimals, or "no data"."""
    return formatting.with_unit_words(None if _missing(value) else float(value), int(meta.get("decimals") or 0),
                             meta.get("unit") or "")


SYMBOLS = ("c", "x", "z")  # DfE symbols: suppressed, not available, not applicable


def fmt_status(value, status, meta: Mapping) -> str:
    """Like `fmt`, but a missing value with a DfE status reads as its symbol (`c`, `x`, `z`)."""
    if _missing(value) and isinstance(status, str) and status in SYMBOLS:
        return status
    return fmt(value, meta)


def difference_unit(meta: Mapping) -> str:
    """Words for a difference: "percentage points" for %, else the unit (or nothing)."""
    unit = meta.get("unit") or ""
    return "percentage points" if unit == "%" else ("" if unit in ("score", "rank", "count") else unit)


def fmt_difference(diff: float | None, meta: Mapping, signed: bool = True) -> str:
    """+3.1 percentage points, -12 (no unit words for scores and counts), or "no data"."""
    if _missing(diff):
        return NO_DATA
    d = int(meta.get("decimals") or 0)
    text = f"{diff:+,.{d}f}" if signed else f"{abs(diff):,.{d}f}"
    words = difference_unit(meta)
    return f"{text} {words}".strip()


def ranking(values: pd.DataFrame, meta: Mapping) -> pd.DataFrame:
    """Wards ranked by value (1 = highest; ties share the best rank), wards with no data last.

    `values`: area_code, area_name, value (+ status, source_title). Returns area_code, area_name,
    value, rank (Int64, NA without data), label (formatted value, a DfE symbol such as `c`, or
    "no data" when there is no row), status.
    """
    df = values[["area_code", "area_name", "value"]].copy()
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["rank"] = df["value"].rank(ascending=False, method="min").astype("Int64")
    status = values["status"] if "status" in values else pd.Series(None, index=values.index)
    df["status"] = status.where(status.notna(), "no row").astype(object).to_numpy()
    df.loc[df["value"].isna() & (df["status"] == "published"), "status"] = "x"
    df["label"] = [fmt_status(v, st, meta) for v, st in zip(df["value"], df["status"])]
    return df.sort_values(["value", "area_name"], ascending=[False, True], na_position="last").reset_index(drop=True)


def map_table(values: pd.DataFrame, meta: Mapping) -> pd.DataFrame:
    """The mapped values as a table: ward, code, value, rank, status and source (ward rows of one indicator)."""
    ranked = ranking(values, meta)
    n = int(ranked["value"].notna().sum())
    src = values.set_index("area_code")["source_title"]
    return pd.DataFrame({"Ward": ranked["area_name"], "Code": ranked["area_code"], "Value": ranked["label"],
                         "Rank": [rank_text(r, n) for r in ranked["rank"]], "Status": ranked["status"],
                         "Source": ranked["area_code"].map(src).fillna("")})


def rank_text(rank, n: int) -> str:
    """"3rd of 17 wards with data (1 = highest)" or "not ranked (no data)"."""
    if _missing(rank) or rank is None:
        return f"not ranked ({NO_DATA})"
    r = int(rank)
    suffix = "th" if 10 <= r % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(r % 10, "th")
    return f"{r}{suffix} of {n} wards with data (1 = highest)"


# --- small numbers -------------------------------------------------------------------------------

SMALL_NUMBER_LIMIT = 10  # fewer than 10 children: suppressed (`c`)
SUPPRESSION_NOTE = ("Ward figures loaded by officers are suppressed (shown as c) when they rest on fewer than 10 "
                    "children: a count of fewer than 10, or a percentage whose numerator or denominator is under "
                    "10. This is done before anything is drawn or exported.")


def symbol_label(status: str, suppressed_here: bool) -> str:
    """The words for a ward without a figure: `c` from the small-number rule applied to an officer's upload says
    "fewer than 10 children"; `c` from the publisher (e.g. an NCMP MSOA cell carried to a ward) says so instead."""
    if status != "c":
        return status
    return "c (suppressed: fewer than 10 children)" if suppressed_here else "c (suppressed by the publisher)"


def suppress_small_numbers(rows: pd.DataFrame, unit: str | None = None) -> pd.DataFrame:
    """Ward rows loaded by officers (source `upload:<id>`) with the DfE small-number rule applied:
    a row with a numerator or denominator under 10, or a count (`unit`, or a `unit` column, is
    "count") under 10, gets value, counts and interval removed and status `c`. Published rows and
    rows without counts are returned unchanged. Returns a copy with a boolean `suppressed` column."""
    df = rows.copy()
    loaded = df["source_id"].astype(str).str.startswith(store.UPLOAD_SOURCE_PREFIX) if "source_id" in df else \
        pd.Series(False, index=df.index)
    small = pd.Series(False, index=df.index)
    for col in ("numerator", "denominator"):
        if col in df:
            small |= pd.to_numeric(df[col], errors="coerce").lt(SMALL_NUMBER_LIMIT).fillna(False)
    units = df["unit"] if "unit" in df else pd.Series(unit, index=df.index)
    small |= (units == "count") & pd.to_numeric(df["value"], errors="coerce").lt(SMALL_NUMBER_LIMIT).fillna(False)
    hit = loaded & small
    for col in ("value", "numerator", "denominator", "lower_ci", "upper_ci"):
        if col in df:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float).mask(hit)
    if "status" in df:
        df["status"] = df["status"].astype(object).mask(hit, "c")
    df["suppressed"] = hit.to_numpy()
    return df


# --- schools -------------------------------------------------------------------------------------

SCHOOLS_NOTE = (f"{vocabulary.SCHOOL_CAPTION} A school is in the ward that holds its location. Sources: DfE Get "
                "Information about Schools; KS2 and KS4 school performance tables 2018/19.")
SCHOOL_LABELS = {"school_name": "School", "urn": "URN", "phase": "Phase", "pupils": "Pupils", "fsm_pct": "% FSM",
                 "ks2_maths_progress": "KS2 maths progress", "ks4_progress8": "Progress 8",
                 "ks4_attainment8": "Attainment 8"}


def school_table(schools: pd.DataFrame) -> pd.DataFrame:
    """The schools of a ward for display: the SCHOOL_LABELS columns the frame has; a missing figure
    reads "no data"."""
    formats = {"pupils": ",.0f", "fsm_pct": ",.1f", "ks2_maths_progress": "+.2f", "ks4_progress8": "+.2f",
               "ks4_attainment8": ",.1f"}
    out = pd.DataFrame(index=schools.index)
    for col in (c for c in SCHOOL_LABELS if c in schools):
        fmt_ = formats.get(col)
        out[SCHOOL_LABELS[col]] = [NO_DATA if _missing(v) or v is None else (format(float(v), fmt_) if fmt_ else str(v))
                                   for v in schools[col]]
    return out.reset_index(drop=True)


# --- comparison -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One area's value in a comparison, with its differences from Derby and England."""

    code: str
    name: str
    value: float | None
    label: str
    rank: str = ""
    vs_derby: float | None = None
    vs_england: float | None = None
    judgement: str = stats.NOT_JUDGED
    judgement_reason: str = ""
    source: str = ""


@dataclass(frozen=True)
class Comparison:
    """Two wards side by side for one indicator and period."""

    title: str
    period: str
    a: Figure
    b: Figure
    derby: Figure
    england: Figure
    gap: float | None  # a minus b
    meta: dict = field(default_factory=dict)

    @property
    def gap_label(self) -> str:
        """The size of the gap in the indicator's unit, e.g. "38.6 percentage points"."""
        return fmt_difference(self.gap, self.meta, signed=False)

    def sentence(self) -> str:
        """One sentence that states both values and the gap."""
        head = f"{self.title}, {self.period}: {self.a.name} {self.a.label}, {self.b.name} {self.b.label}"
        if self.gap is None:
            missing = [f.name for f in (self.a, self.b) if f.value is None]
            return f"{head}. No gap can be given: {' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no data."
        if self.gap == 0:
            return f"{head}: no gap."
        higher, lower = (self.a, self.b) if self.gap > 0 else (self.b, self.a)
        return f"{head}: a gap of {self.gap_label} ({higher.name} higher than {lower.name})."

    def table(self) -> pd.DataFrame:
        """Rows: the two wards, Derby and England; value, rank among wards, difference from Derby and
        England, judgement against England and source."""
        rows = []
        for f in (self.a, self.b, self.derby, self.england):
            rows.append({"Area": f.name, "Value": f.label, "Rank among wards": f.rank,
                         "Difference from Derby": "" if f.code == config.DERBY else fmt_difference(f.vs_derby, self.meta),
                         "Difference from England": "" if f.code == config.ENGLAND else fmt_difference(f.vs_england, self.meta),
                         "Compared with England": "" if f.code == config.ENGLAND else
                         f.judgement + (f" ({f.judgement_reason})" if f.judgement_reason else ""),
                         "Source": f.source})
        return pd.DataFrame(rows)


def _num(v) -> float | None:
    return None if _missing(v) else float(v)


def _judge(row: Mapping, england: float | None, meta: Mapping) -> tuple[str, str]:
    polarity = meta.get("polarity") or "no_judgement"
    if polarity == "no_judgement":
        return stats.NOT_JUDGED, "no better or worse for this indicator"
    if _num(row.get("value")) is None or england is None:
        return stats.NOT_JUDGED, NO_DATA
    if meta.get("unit") != "%":
        return stats.NOT_JUDGED, "no interval for this measure"
    lo, hi = _num(row.get("lower_ci")), _num(row.get("upper_ci"))
    if lo is not None and hi is not None:
        return stats.compare_interval(lo, hi, england, polarity), "95% interval"
    verdict, _ = stats.significance(_num(row.get("numerator")), _num(row.get("denominator")), england, polarity)
    if verdict == stats.NOT_JUDGED:
        return verdict, "no counts published"
    return verdict, "Wilson 95% interval"


def _figure(row: Mapping | None, code: str, name: str, meta: Mapping, derby: float | None,
            england: float | None, rank: str = "", judge: bool = True) -> Figure:
    row = dict(row or {})
    value = _num(row.get("value"))
    comparable = (meta.get("unit") or "") != "count"  # counts of different areas are not compared
    vs_d = value - derby if comparable and value is not None and derby is not None else None
    vs_e = value - england if comparable and value is not None and england is not None else None
    d = int(meta.get("decimals") or 0)
    verdict, reason = _judge(row, england, meta) if judge else (stats.NOT_JUDGED, "")
    source = row.get("source_title")
    source = "" if _missing(source) else f"{source}" + (f" ({row['publisher']})" if not _missing(row.get("publisher")) else "")
    return Figure(code, name, value, fmt_status(value, row.get("status"), meta), rank,
                  None if vs_d is None else round(vs_d, d), None if vs_e is None else round(vs_e, d),
                  verdict, reason, source)


def compare(values: pd.DataFrame, reference: pd.DataFrame, code_a: str, code_b: str, meta: Mapping,
            period: str) -> Comparison:
    """Compare two wards (codes in `values`, from queries.wards.ward_values) with each other and
    with Derby and England (`reference`, from queries.wards.reference_values)."""
    meta = dict(meta)
    by_code = values.set_index("area_code")
    ref = reference.set_index("area_code") if len(reference) else pd.DataFrame()
    ranks = ranking(values, meta).set_index("area_code")
    n = int(ranks["value"].notna().sum())

    def ref_row(code):
        return ref.loc[code].to_dict() if code in ref.index else None

    derby_v = _num((ref_row(config.DERBY) or {}).get("value"))
    england_v = _num((ref_row(config.ENGLAND) or {}).get("value"))

    def ward(code):
        row = by_code.loc[code].to_dict() if code in by_code.index else None
        name = row["area_name"] if row else code
        return _figure(row, code, name, meta, derby_v, england_v, rank_text(ranks["rank"].get(code), n))

    a, b = ward(code_a), ward(code_b)
    derby = _figure(ref_row(config.DERBY), config.DERBY, "Derby", meta, derby_v, england_v)
    england = _figure(ref_row(config.ENGLAND), config.ENGLAND, "England", meta, derby_v, england_v, judge=False)
    d = int(meta.get("decimals") or 0)
    gap = None if a.value is None or b.value is None else round(a.value - b.value, d)
    return Comparison(meta.get("title", ""), period, a, b, derby, england, gap, meta)


def context_table(context: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Deprivation and population context: one row per CONTEXT_LABELS indicator, one column per
    area (`columns` maps column label -> area code), then the period and source id.

    `context` is queries.wards.ward_context (long). Missing figures read "no data".
    """
    rows = []
    for ind, label in CONTEXT_LABELS.items():
        part = context[context["indicator_id"] == ind]
        if part.empty:
            continue
        meta = part.iloc[0].to_dict()
        by_area = part.set_index("area_code")
        row = {"Measure": label}
        for col, code in columns.items():
            if code in by_area.index:
                r = by_area.loc[code]
                text = fmt(r["value"], meta)
                if ind == "imd_most_deprived_decile_share" and not _missing(r["numerator"]) and not _missing(r["denominator"]):
                    text += f" ({int(r['numerator']):,} of {int(r['denominator']):,})"
                row[col] = text
            else:
                row[col] = NO_DATA
        row["Period"] = meta["period"]
        row["Source"] = ", ".join(sorted(set(part["source_id"])))
        rows.append(row)
    return pd.DataFrame(rows, columns=["Measure", *columns, "Period", "Source"])


def children_per_year(context: pd.DataFrame, code: str) -> float | None:
    """A ward's mid-2015 children aged 0-15 divided by 16 (an average year group), or None."""
    row = context[(context["area_code"] == code) & (context["indicator_id"] == "population_0_15")]
    if row.empty or _missing(row["value"].iloc[0]):
        return None
    return float(row["value"].iloc[0]) / 16


# --- choices --------------------------------------------------------------------------------------

def default_pair(wards: pd.DataFrame) -> tuple[str, str]:
    """Codes of Arboretum and Allestree in a ward list (area_code, area_name); else the first two."""
    names = dict(zip(wards["area_name"], wards["area_code"]))
    codes = list(wards["area_code"])
    a = names.get(DEFAULT_PAIR[0], codes[0] if codes else "")
    b = names.get(DEFAULT_PAIR[1], next((c for c in codes if c != a), a))
    return a, b


def same_named_ward(code: str | None, wards: pd.DataFrame, all_wards: pd.DataFrame) -> str | None:
    """The ward of `wards` with the same name as ward `code` of another vintage (`all_wards` holds
    area_code, area_name of every vintage), e.g. Arboretum 2003-2023 -> Arboretum 2023; else None."""
    if code is None or code in set(wards["area_code"]):
        return code
    name = dict(zip(all_wards["area_code"], all_wards["area_name"])).get(code)
    match = wards.loc[wards["area_name"] == name, "area_code"]
    return str(match.iloc[0]) if name is not None and len(match) else None


def selected_ward(state, layer_ids: tuple[str, ...] = ("ward-map", "ward-hex")) -> str | None:
    """The ward code picked on a pydeck map, from the `st.pydeck_chart` selection state
    ({"selection": {"indices": {...}, "objects": {layer_id: [object, ...]}}}); None if nothing.

    GeoJsonLayer objects are features (code in `properties`); PolygonLayer objects are the rows.
    """
    if not isinstance(state, Mapping):
        return None
    selection = state.get("selection", state)
    objects = selection.get("objects") if isinstance(selection, Mapping) else None
    if not isinstance(objects, Mapping):
        return None
    for layer_id in layer_ids:
        for obj in objects.get(layer_id) or []:
            if isinstance(obj, Mapping):
                props = obj.get("properties") if isinstance(obj.get("properties"), Mapping) else obj
                code = props.get("area_code")
                if code:
                    return str(code)
    return None


# --- methods --------------------------------------------------------------------------------------

def methods_markdown() -> str:
    """The methods note for ward figures and maps (docs/methods-wards.md), for the Data & sources page."""
    return METHODS_PATH.read_text(encoding="utf-8")
