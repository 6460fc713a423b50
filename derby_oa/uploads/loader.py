"""Officers' uploads: validate every row against the database, show the diff, commit atomically, undo.

One loader serves the Load data page and `python -m derby_oa load FILE [--commit]`. No Streamlit.
Reading the file (layouts, encodings, size limit, Excel formulas) is in `derby_oa.uploads.formats`;
this module adds the checks that need the database: unknown indicator or area code, a period the
indicator cannot have (wrong kind of year, a not-collected year, a future year), a value outside its
unit's range, duplicates within the file, and the diff against existing rows (new, changed, unchanged).

Commit writes through `store.atomic_update` (copy, change, check, swap): uploaded rows get source
`upload:<id>` with a `sources` row (title = file name, publisher "Local upload by <name>", the
declared licence and attribution), `uploads` records the file, its SHA-256, time and row counts, and
`upload_rows` the previous state of every key it touched, so `undo_last` restores it exactly.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from derby_oa import config
from derby_oa.build import history
from derby_oa.storage import store, write_lock
from derby_oa.queries import uploads as uq
from derby_oa.storage.write_lock import WriteBusy
from derby_oa.storage.schema import OBS_COLUMNS, OBS_KEY
from derby_oa.uploads.formats import (  # noqa: F401  (re-exported for the page and the command line)
    BREAKDOWNS,
    EES_MEASURES,
    FINGERTIPS_IDS,
    FORMAT_LABELS,
    KIND_EXAMPLE,
    MAX_BYTES,
    READERS,
    TEMPLATE_COLUMNS,
    Problem,
    UploadRefused,
    detect_format,
    limits_text,
    member_of,
    period_kind,
    problems_where,
    read_rows,
)

MAX_PROBLEMS_SHOWN = 200
TEMPLATE_PATH = config.DATA_DIR / "upload_template.csv"
DEFAULT_LICENCE = "Open Government Licence v3.0"
DEFAULT_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."


class CommitRefused(ValueError):
    """A commit or undo that cannot go ahead; the database is unchanged."""


@dataclass
class Report:
    """The validation report of one file: rows read, problems, notes and the diff against the database."""

    file_name: str
    sha256: str
    size: int
    format: str
    rows: pd.DataFrame  # candidate observations with their file `row`
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    new: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed: pd.DataFrame = field(default_factory=pd.DataFrame)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        """True when there are no problems and something to load."""
        return not self.problems and (len(self.new) + len(self.changed)) > 0

    def problems_frame(self) -> pd.DataFrame:
        """Problems as a table (row, field, problem)."""
        return pd.DataFrame([(p.row, p.field, p.message) for p in self.problems], columns=["row", "field", "problem"])

    def derby_rows(self) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
        """Derby's (new rows, changed rows, rows with problems, rows already held unchanged) in this file."""
        mine = self.rows[self.rows["area_code"] == config.DERBY] if len(self.rows) else self.rows
        bad = int(mine["row"].isin({p.row for p in self.problems}).sum()) if len(mine) else 0
        new = self.new[self.new["area_code"] == config.DERBY] if len(self.new) else self.new
        changed = self.changed[self.changed["area_code"] == config.DERBY] if len(self.changed) else self.changed
        return new, changed, bad, len(mine) - bad - len(new) - len(changed)

    def derby_summary(self, limit: int = 10) -> list[str]:
        """What the file would change for Derby: a count line, then each new or changed Derby value."""
        new, changed, bad, held = self.derby_rows()
        total = len(new) + len(changed) + bad + held
        if not total:
            return [f"Derby ({config.DERBY}): the file holds no rows for Derby."]
        lines = [f"Derby ({config.DERBY}): {total:,} rows in the file: {len(new):,} new, {len(changed):,} changed "
                 f"values, {held:,} already held unchanged, {bad:,} with problems."]
        for r in changed.head(limit).itertuples():
            lines.append(f"  changed: {r.indicator_id} {r.period} {r.breakdown}: "
                         f"{_show(r.previous_value, r.previous_status)} -> {_show(r.value, r.status)}")
        for r in new.head(max(0, limit - len(changed))).itertuples():
            lines.append(f"  new: {r.indicator_id} {r.period} {r.breakdown}: {_show(r.value, r.status)}")
        if len(new) + len(changed) > limit:
            lines.append(f"  ... and {len(new) + len(changed) - limit:,} more")
        return lines

    def summary(self) -> str:
        """One sentence on what the file holds."""
        return (f"{self.file_name}: {FORMAT_LABELS.get(self.format, self.format)}, {len(self.rows):,} rows read; "
                f"{len(self.problems):,} problems; {len(self.new):,} new rows, {len(self.changed):,} changed values, "
                f"{self.unchanged:,} rows already held unchanged.")

    def text(self, limit: int = MAX_PROBLEMS_SHOWN) -> str:
        """The report as plain text for the command line."""
        lines = [self.summary(), f"SHA-256 {self.sha256}"]
        lines += self.derby_summary()
        lines += [f"note: {n}" for n in self.notes]
        if self.problems:
            lines.append("Problems (rows numbered from the first data row; the header is row 0):")
            lines += [f"  {p.text()}" for p in self.problems[:limit]]
            if len(self.problems) > limit:
                lines.append(f"  ... and {len(self.problems) - limit:,} more")
        if len(self.changed):
            lines.append("Changed values (existing -> file):")
            for r in self.changed.head(limit).itertuples():
                lines.append(f"  row {r.row}: {r.indicator_id} {r.area_code} {r.area_name} {r.period} {r.breakdown}: "
                             f"{_show(r.previous_value, r.previous_status)} -> {_show(r.value, r.status)}"
                             f" (was from {r.previous_source_id})")
        if len(self.new):
            lines.append(f"New rows: {len(self.new):,}")
            for r in self.new.head(min(limit, 20)).itertuples():
                lines.append(f"  row {r.row}: {r.indicator_id} {r.area_code} {r.area_name} {r.period} {r.breakdown}: "
                             f"{_show(r.value, r.status)}")
        lines.append("Ready to commit." if self.ok else ("Nothing to commit." if not self.problems
                                                         else "Fix the problems before committing."))
        return "\n".join(lines)


@dataclass
class CommitResult:
    upload_id: int
    source_id: str
    rows_added: int
    rows_changed: int
    published: bool = False


@dataclass
class UndoResult:
    upload_id: int
    file_name: str
    rows_removed: int
    rows_restored: int


def _show(value, status) -> str:
    return f"{value:g}" if status == "published" and pd.notna(value) else str(status)


# ---- checks against the database ----------------------------------------------------------------------

def _range(unit: str, lo_pub: float | None, hi_pub: float | None) -> tuple[float | None, float | None, str]:
    """Allowed (min, max, wording) for a unit. A % series that is itself published outside 0-100
    (take-up over a population estimate, or a gap in points) is not bounded."""
    if unit == "%":
        if (lo_pub is not None and lo_pub < 0) or (hi_pub is not None and hi_pub > 100):
            return None, None, ""
        return 0.0, 100.0, "a percentage (0 to 100)"
    if unit in ("per 100,000", "per 10,000", "count", "£"):
        return 0.0, None, f"a {unit} figure (0 or more)" if unit != "count" else "a count (0 or more)"
    if unit == "rank":
        return 1.0, None, "a rank (1 or more)"
    return None, None, ""


def _kinds(labels: pd.Series) -> pd.Series:
    """`period_kind` of each label (vectorised)."""
    t = labels.fillna("").astype(str)
    return pd.Series(np.select([t.str.fullmatch(r"\d{4}/\d{2}"), t.str.fullmatch(r"\d{4}-\d{2}"),
                                t.str.fullmatch(r"\d{4}")], ["academic", "financial", "calendar"], "other"),
                     index=labels.index)


def check_rows(obs: pd.DataFrame, ctx: dict, today: dt.date) -> list[Problem]:
    """Problems that need the database: codes, periods the indicator cannot have, ranges, duplicates."""
    where = problems_where
    problems: list[Problem] = []
    ind_ok = member_of(obs["indicator_id"], ctx["indicators"])
    problems += where(~ind_ok & obs["indicator_id"].notna(), "indicator_id",
                      lambda i: f"unknown indicator '{obs.at[i, 'indicator_id']}'")
    problems += where(obs["area_code"].notna() & ~member_of(obs["area_code"], ctx["areas"]), "area_code",
                      lambda i: f"unknown area code '{obs.at[i, 'area_code']}'")
    problems += where(obs["breakdown"].notna() & ~obs["breakdown"].isin(BREAKDOWNS), "breakdown",
                      lambda i: f"breakdown '{obs.at[i, 'breakdown']}' is not one of {', '.join(BREAKDOWNS)}")
    rules = ctx["rules"]
    known = obs[ind_ok & obs["period"].notna() & obs["year"].notna()]
    if len(known):
        rule = known["indicator_id"].map(rules)
        kind = _kinds(known["period"])
        allowed = rule.map(lambda r: r["kinds"] or {"academic", "financial", "calendar"})
        wrong_kind = pd.Series([k not in a for k, a in zip(kind, allowed)], index=known.index)
        year = known["year"].astype(int)
        future = ~wrong_kind & (year > today.year)
        published = known["status"].eq("published")
        not_collected = ~wrong_kind & ~future & published & pd.Series(
            [y in r["not_collected"] for y, r in zip(year, rule)], index=known.index)
        ind, per = known["indicator_id"], known["period"]
        problems += where(wrong_kind, "period", lambda i: f"{ind[i]} is published for "
                          f"{' or '.join(KIND_EXAMPLE[k] for k in sorted(allowed[i]))}, not '{per[i]}'")
        problems += where(future, "period",
                          lambda i: f"'{per[i]}' ends in {year[i]}, after the current year ({today.year})")
        problems += where(not_collected, "period",
                          lambda i: f"{ind[i]} was not collected in '{per[i]}': a value cannot be given (use x)")
        lo = rule.map(lambda r: r["range"][0]).astype("float64")
        hi = rule.map(lambda r: r["range"][1]).astype("float64")
        v = known["value"].astype("float64")
        outside = v.notna() & ((lo.notna() & (v < lo)) | (hi.notna() & (v > hi)))
        problems += where(outside, "value", lambda i: f"{v[i]:g} is outside the range of {rule[i]['range'][2]}")
        num, den = known["numerator"].astype("float64"), known["denominator"].astype("float64")
        over = rule.map(lambda r: r["unit"] == "%").astype(bool) & num.notna() & den.notna() & (num > den)
        problems += where(over, "numerator",
                          lambda i: f"numerator {num[i]:g} is larger than the denominator {den[i]:g}")
    keyed = obs.dropna(subset=OBS_KEY)
    if len(keyed):
        first = keyed.groupby(OBS_KEY, sort=False)["row"].transform("min")
        dup = keyed[keyed["row"] != first]
        problems += [Problem(int(r), "period", f"duplicate of row {int(f)} ({i}, {a}, {p}, {b})")
                     for r, f, i, a, p, b in zip(dup["row"], first[dup.index], dup["indicator_id"], dup["area_code"],
                                                 dup["period"], dup["breakdown"])]
    return problems


def _equal(a: pd.Series, b: pd.Series) -> pd.Series:
    """NaN-aware numeric equality."""
    a, b = pd.to_numeric(a, errors="coerce").astype("float64"), pd.to_numeric(b, errors="coerce").astype("float64")
    return (a.isna() & b.isna()) | ((a - b).abs() <= 1e-9)


def diff(obs: pd.DataFrame, existing: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(new rows, changed rows with previous values, number unchanged) of `obs` against `existing`.

    A row is unchanged when status and value agree and any counts it gives agree.
    """
    prev = existing.rename(columns={c: f"previous_{c}" for c in existing.columns if c not in OBS_KEY})
    merged = obs.merge(prev.assign(_held=True), on=OBS_KEY, how="left")
    merged.index = obs.index
    is_new = merged["_held"].isna()
    same = (merged["status"].eq(merged["previous_status"]) & _equal(merged["value"], merged["previous_value"])
            & (merged["numerator"].isna() | _equal(merged["numerator"], merged["previous_numerator"]))
            & (merged["denominator"].isna() | _equal(merged["denominator"], merged["previous_denominator"])))
    changed = ~is_new & ~same
    cols = ["row", *OBS_KEY, "year", "value", "status", "numerator", "denominator", "lower_ci", "upper_ci"]
    prev_cols = ["previous_value", "previous_status", "previous_source_id", "previous_numerator",
                 "previous_denominator", "previous_lower_ci", "previous_upper_ci"]
    return (merged.loc[is_new, cols], merged.loc[changed, cols + prev_cols], int((~is_new & same).sum()))


def _context(con) -> dict:
    indicators, areas = uq.known_codes(con)
    return {"indicators": indicators, "areas": areas, "area_table": uq.areas_for_mapping(con), "kinds": {},
            "rules": {}}


def _as_set(value) -> set:
    return set(value) if isinstance(value, (list, tuple, np.ndarray)) else set()


def _add_rules(con, ctx: dict, indicator_ids) -> None:
    ids = sorted({i for i in indicator_ids if isinstance(i, str) and i in ctx["indicators"]})
    if not ids:
        return
    for r in uq.indicator_rules(con, ids).itertuples():
        kinds, held = _as_set(r.kinds), _as_set(r.published_in_not_collected)
        nc = [int(x) for x in str(r.not_collected or "").split(";") if x.strip() and int(x) not in held]
        lo = None if pd.isna(r.published_min) else float(r.published_min)
        hi = None if pd.isna(r.published_max) else float(r.published_max)
        ctx["rules"][r.indicator_id] = {"unit": r.unit, "kinds": kinds, "not_collected": nc,
                                        "range": _range(r.unit, lo, hi)}
        ctx["kinds"][r.indicator_id] = kinds


def validate(con, name: str, data: bytes, indicator_id: str | None = None, value_column: str | None = None,
             numerator_column: str | None = None, denominator_column: str | None = None,
             breakdown: str | None = None, today: dt.date | None = None) -> Report:
    """Read and check an uploaded file against the database `con` (read-only); never writes.

    Raises UploadRefused for a file that cannot be read at all; row problems go in the report.
    """
    name = Path(str(name)).name or "upload"
    sha = hashlib.sha256(data).hexdigest()
    header, df, problems = read_rows(name, data)
    fmt = detect_format(header)
    opts = {"indicator_id": indicator_id or None, "value_column": value_column or None,
            "numerator_column": numerator_column or None, "denominator_column": denominator_column or None,
            "breakdown": breakdown or None}
    ctx = _context(con)
    # Fingertips readers need the period kinds of the indicators they may map to while parsing.
    _add_rules(con, ctx, {indicator_id, *(v[0] for v in (*FINGERTIPS_IDS.values(), *EES_MEASURES.values()))})
    parsed = READERS[fmt](df, opts, ctx)
    obs = parsed.obs
    _add_rules(con, ctx, set(obs["indicator_id"].dropna()) - set(ctx["rules"]))
    problems = problems + parsed.problems
    problems += check_rows(obs, ctx, today or dt.date.today())
    problems.sort(key=lambda p: (p.row or 0, p.field or ""))
    report = Report(name, sha, len(data), fmt, obs, problems, parsed.notes)
    if obs.empty:
        report.notes.append("no rows left to load after skipping")
        return report
    bad_rows = {p.row for p in problems}
    clean = obs[~obs["row"].isin(bad_rows)].dropna(subset=OBS_KEY)
    existing = uq.existing_rows(con, clean)
    report.new, report.changed, report.unchanged = diff(clean, existing)
    names = dict(zip(ctx["area_table"]["area_code"], ctx["area_table"]["area_name"]))
    for frame in (report.new, report.changed):  # the dry run names each area beside its code
        frame.insert(frame.columns.get_loc("area_code") + 1, "area_name", frame["area_code"].map(names))
    return report


def validate_file(con, path: Path | str, **options) -> Report:
    """`validate` for a file on disk (refuses one over the size limit before reading it)."""
    path = Path(path)
    if not path.is_file():
        raise UploadRefused(f"{path} does not exist.")
    if path.stat().st_size > MAX_BYTES:
        raise UploadRefused(f"{path.name} is {path.stat().st_size / 1024 / 1024:.1f} MB; the limit is "
                            f"{MAX_BYTES // 1024 // 1024} MB.")
    return validate(con, path.name, path.read_bytes(), **options)


# ---- commit and undo ------------------------------------------------------------------------------------

def _to_write(report: Report) -> pd.DataFrame:
    rows = pd.concat([report.new, report.changed], ignore_index=True)
    rows = rows.reindex(columns=OBS_COLUMNS)
    for col in ("value", "numerator", "denominator", "lower_ci", "upper_ci"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype("float64")
    rows["year"] = rows["year"].astype("int64")
    return rows


def commit(report: Report, path: Path | None = None, officer: str = "", licence: str = DEFAULT_LICENCE,
           attribution: str = DEFAULT_ATTRIBUTION, replace: bool = False, now: dt.datetime | None = None,
           published: bool = False) -> CommitResult:
    """Write a validated upload atomically; refuses reports with problems, nothing new, or unconfirmed changes.

    The upload is a draft (seen by signed-in officers only) unless `published`; see `publish`."""
    if report.problems:
        raise CommitRefused(f"{len(report.problems):,} problems must be fixed before this file can be loaded.")
    if not len(report.new) and not len(report.changed):
        raise CommitRefused("Nothing to load: every row is already in the database with the same value.")
    if len(report.changed) and not replace:
        raise CommitRefused(f"{len(report.changed):,} rows would change existing values: confirm that they should "
                            f"be replaced (--replace on the command line).")
    rows = _to_write(report)
    officer = (officer or "").strip() or "officer"
    licence = (licence or "").strip() or DEFAULT_LICENCE
    attribution = (attribution or "").strip() or DEFAULT_ATTRIBUTION
    stamp = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")

    def change(con) -> CommitResult:
        uq.ensure_upload_columns(con)
        existing = uq.existing_rows(con, rows)
        new, changed, _ = diff(rows.assign(row=0), existing)
        if len(new) != len(report.new) or len(changed) != len(report.changed):
            raise CommitRefused("The database changed since this file was checked: check it again.")
        upload_id = uq.next_upload_id(con)
        source_id = f"{store.UPLOAD_SOURCE_PREFIX}{upload_id}"
        uq.insert_source(con, {"source_id": source_id, "title": report.file_name,
                               "publisher": f"Local upload by {officer}", "licence": licence,
                               "attribution": attribution, "retrieved": f"uploaded {stamp}; sha256 {report.sha256}"})
        prev = pd.concat([new.assign(was_new=True), changed.assign(was_new=False)], ignore_index=True)
        for col in ("previous_value", "previous_status", "previous_source_id", "previous_numerator",
                    "previous_denominator", "previous_lower_ci", "previous_upper_ci"):
            if col not in prev:
                prev[col] = None
        prev.loc[prev["was_new"], ["previous_value", "previous_numerator", "previous_denominator",
                                   "previous_lower_ci", "previous_upper_ci"]] = np.nan
        for col in ("previous_value", "previous_numerator", "previous_denominator", "previous_lower_ci",
                    "previous_upper_ci"):
            prev[col] = pd.to_numeric(prev[col], errors="coerce").astype("float64")
        uq.record_previous(con, upload_id, prev)
        uq.replace_observations(con, rows.assign(source_id=source_id))
        if uq.duplicate_keys(con):
            raise CommitRefused("The upload would leave a key held twice; nothing was written.")
        uq.insert_upload(con, {"upload_id": upload_id, "file_name": report.file_name, "sha256": report.sha256,
                               "loaded_at": stamp, "rows_added": len(new), "rows_changed": len(changed),
                               "format": report.format, "published": published})
        return CommitResult(upload_id, source_id, len(new), len(changed), published)

    try:
        return store.atomic_update(change, path, what=f"an upload commit ({report.file_name})",
                                   around=lambda: history.recording(path, f"upload of {report.file_name}"))
    except WriteBusy as exc:  # another write held the lock too long: refused like any other commit
        raise CommitRefused(str(exc)) from None


def undo_last(path: Path | None = None) -> UndoResult:
    """Undo the most recent upload that is not already undone: remove its new rows, restore what it changed."""
    def change(con) -> UndoResult:
        last = uq.last_active_upload(con)
        if last is None:
            raise CommitRefused("There is no upload to undo.")
        removed, restored = uq.undo_upload(con, int(last["upload_id"]))
        return UndoResult(int(last["upload_id"]), str(last["file_name"]), removed, restored)

    try:
        return store.atomic_update(change, path, what="an undo",
                                   around=lambda: history.recording(path, "undo of the last upload"))
    except WriteBusy as exc:
        raise CommitRefused(str(exc)) from None


def publish(upload_id: int, path: Path | None = None) -> str:
    """Publish a draft upload, so viewers see its rows; returns its file name. Refuses unknown, undone or
    already published uploads."""
    def change(con) -> str:
        uq.ensure_upload_columns(con)
        record = uq.upload_record(con, int(upload_id))
        if record is None:
            raise CommitRefused(f"There is no upload {upload_id}.")
        if bool(record["undone"]):
            raise CommitRefused(f"Upload {upload_id} was undone; load the file again instead.")
        if pd.isna(record["published"]) or bool(record["published"]):
            raise CommitRefused(f"Upload {upload_id} is already published.")
        uq.publish_upload(con, int(upload_id))
        return str(record["file_name"])

    try:
        return store.atomic_update(change, path, what=f"publishing upload {upload_id}",
                                   around=lambda: history.recording(path, f"publication of upload {upload_id}"))
    except WriteBusy as exc:
        raise CommitRefused(str(exc)) from None


def template_bytes() -> bytes:
    """The tidy template offered for download."""
    return TEMPLATE_PATH.read_bytes()

