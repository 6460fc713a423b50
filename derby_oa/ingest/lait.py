"""DfE LAIT benchmarking data set (long parquet) and its data dictionary.

Values are strings with float noise (`66.400000000000006`) and `-` for missing; year labels are
end years (`2016` = 2015/16). Curated measures map to readable indicator ids through
`data/source_codes.csv`; every other measure becomes `lait_<code>` with the dictionary's metadata.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from derby_oa.errors import InputError
from derby_oa.ingest import Bundle, Context, periods

SOURCE_ID = "dfe_lait"
REQUIRED = ["Short Desc", "Years", "LA and Regions", "Values", "LA Number"]
DICT_REQUIRED = ["Measure_short", "Measure", "Polarity", "y_axis_name", "dps", "Year_Type", "Topic", "Description"]
MISSING_MARKERS = {"-": "x", "x": "x", "c": "c", "z": "z", "..": "x", ":": "x", "": "x"}

_TOPIC_THEME = [
    (r"foundation|early years|childcare", "early_years"),
    (r"key stage|absence|exclusion|sen|school|phonics|ks\d|attainment|destination|16-18|post 16|19", "schools"),
    (r"health|wellbeing|mental|obes", "wellbeing"),
]


def indicator_id_for(code: str) -> str:
    """Readable id for an uncurated LAIT measure code."""
    slug = code.lower().replace("%", "_pct").replace("&", "_and_")
    return "lait_" + re.sub(r"[^a-z0-9]+", "_", slug).strip("_")


def _unit(axis: str) -> str:
    axis = (axis or "").lower()
    if "100,000" in axis or "100000" in axis:
        return "per 100,000"
    if "10,000" in axis or "10000" in axis:
        return "per 10,000"
    if "%" in axis or "percent" in axis:
        return "%"
    if "spend" in axis or "£" in axis:
        return "£"
    if axis.startswith("number"):
        return "count"
    return "score"


def _theme(topic: str) -> str:
    t = (topic or "").lower()
    for pattern, theme in _TOPIC_THEME:
        if re.search(pattern, t):
            return theme
    return "context"


def read_dictionary(path: Path) -> pd.DataFrame:
    """The LAIT data dictionary (Latin-1), one row per measure code (first entry wins)."""
    df = pd.read_csv(path, encoding="latin-1", dtype=str, keep_default_na=False)
    missing = [c for c in DICT_REQUIRED if c not in df.columns]
    if missing:
        raise InputError(path.name, f"missing column(s) {', '.join(missing)}", field=missing[0])
    return df[df["Measure_short"] != ""].drop_duplicates("Measure_short")


def _period(label: str, year_type: str, file: str, row: int) -> tuple[str, int]:
    clean = re.sub(r"\s*\(.*\)\s*$", "", str(label)).strip()
    try:
        year = periods.end_year(clean)
    except ValueError:
        raise InputError(file, f"unrecognised year label '{label}'", row=row, field="Years") from None
    if re.fullmatch(r"\d{4}", clean):
        if year_type.startswith("Academic"):
            return periods.academic(year), year
        if year_type.startswith("Financial"):
            return periods.financial(year), year
    return clean, year


def parse_values(values: pd.Series, file: str, row_offset: int = 0) -> tuple[pd.Series, pd.Series]:
    """Numeric values and DfE status codes from LAIT value strings; raises on unknown text."""
    text = values.fillna("").astype(str).str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    marker = text.str.lower()
    unknown = numbers.isna() & ~marker.isin(MISSING_MARKERS.keys())
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(file, f"'{text.iloc[i]}' is neither a number nor a DfE symbol (c, x, z, -)",
                         row=i + 1 + row_offset, field="Values")
    status = marker.map(MISSING_MARKERS).where(numbers.isna(), "published")
    return numbers.round(6), status


FILES = ("lait/bds_long_0.parquet", "lait/lait_data_dictionary.csv")


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Canonical observations (and uncurated indicators) from LAIT files."""
    data_path, dictionary_path = paths[FILES[0]], paths[FILES[1]]
    areas, source_codes = ctx.areas, ctx.source_codes
    file = Path(data_path).name
    try:
        raw = pd.read_parquet(data_path)
    except Exception as exc:
        raise InputError(file, f"cannot be read as parquet ({type(exc).__name__}: {exc})") from None
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])
    dictionary = read_dictionary(dictionary_path).set_index("Measure_short")

    la_codes = areas.dropna(subset=["la_number"]).set_index("la_number")["area_code"]
    numbers = pd.to_numeric(raw["LA Number"], errors="coerce")
    unknown = numbers.isna() | ~numbers.isin(la_codes.index)
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(file, f"unknown LA number '{raw['LA Number'].iloc[i]}' ({raw['LA and Regions'].iloc[i]})",
                         row=i + 1, field="LA Number")
    value, status = parse_values(raw["Values"], file)

    mapping = source_codes[source_codes["source_id"] == SOURCE_ID].set_index("source_code")
    codes = raw["Short Desc"].astype("category")  # categoricals keep the per-row mapping fast
    year_types = codes.map(dictionary["Year_Type"].to_dict()).astype(str).replace("nan", "")
    key = (raw["Years"].astype(str) + "\x1f" + year_types).astype("category")  # label and year type decide the period
    periods_by_key, undatable = {}, set()
    for k in key.drop_duplicates():
        label, year_type = k.split("\x1f")
        try:
            periods_by_key[k] = _period(label, year_type, file, int((key == k).to_numpy().argmax()) + 1)
        except InputError:
            undatable.add(k)
    placed = ~key.isin(undatable)
    notes = []
    if not placed.all():  # LAIT carries a few rows whose year label is '0': they cannot be dated
        bad = raw.loc[~placed]
        notes.append(f"dropped {len(bad)} rows with an undatable year label "
                     f"({', '.join(sorted(set(bad['Short Desc'])))}: {', '.join(sorted(set(bad['Years'])))})")
        raw, codes, key, numbers = raw[placed], codes[placed], key[placed], numbers[placed]
        value, status = value[placed], status[placed]
    uniq_codes = pd.Series(codes.cat.categories)
    ids = dict(zip(uniq_codes, uniq_codes.map(mapping["indicator_id"]).fillna(uniq_codes.map(indicator_id_for))))

    obs = pd.DataFrame({
        "indicator_id": codes.map(ids).astype(str),
        "area_code": numbers.astype("int64").map(la_codes).to_numpy(),
        "period": key.map({k: p for k, (p, _) in periods_by_key.items()}).astype(str),
        "year": key.map({k: y for k, (_, y) in periods_by_key.items()}).astype("int64"),
        "breakdown": codes.map(mapping["breakdown"].to_dict()).astype(object).fillna("all").astype(str),
        "value": value,
        "status": status,
        "source_id": SOURCE_ID,
    })

    uncurated = sorted(set(codes.cat.categories) - set(mapping.index))
    items = raw.dropna(subset=["Data item"]).drop_duplicates("Short Desc").set_index("Short Desc")["Data item"] \
        if "Data item" in raw else pd.Series(dtype=str)
    rows = []
    for code in uncurated:
        meta = dictionary.loc[code] if code in dictionary.index else None
        get = (lambda k: str(meta[k]) if meta is not None else "")
        polarity = {"high": "higher_is_better", "low": "lower_is_better"}.get(get("Polarity").strip().lower(), "no_judgement")
        dps = pd.to_numeric(get("dps"), errors="coerce")
        title = get("Measure").strip() or str(items.get(code, "") or code)
        rows.append({
            "indicator_id": indicator_id_for(code), "title": title, "short_title": code,
            "theme": _theme(get("Topic")), "unit": _unit(get("y_axis_name")), "polarity": polarity,
            "decimals": int(dps) if pd.notna(dps) else 1,
            "definition": get("Description").strip() or title, "series_breaks": "", "not_collected": "",
            "series_notes": f"LAIT measure {code}", "source_id": SOURCE_ID,
        })
    return Bundle(SOURCE_ID, observations=obs.reset_index(drop=True), indicators=pd.DataFrame(rows), notes=notes)
