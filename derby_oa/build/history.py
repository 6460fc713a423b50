"""The change history: what each build, upload and undo changed, kept in a store that survives rebuilds.

The store is `<database stem>_history.duckdb` beside the database (a build replaces the database file, so the
history cannot live inside it). `recording(db_path, trigger)` wraps one write: it takes a snapshot before, and
after the write records the differences (`changes.diff`) and every headline tile's state. Writes to the store
are atomic (copy, change, swap), so the app reading it never blocks a build. A failure to record is logged and
reported, never allowed to fail the build or upload it follows.

`since(db_path, date)` gathers what changed after a date for the "Since last meeting" view and the board pack.
"""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from derby_oa.analysis import changes, headlines
from derby_oa import config
from derby_oa.storage import store
from derby_oa.queries import history as hq
from derby_oa.queries import visibility

log = logging.getLogger(__name__)


def history_path(db_path: Path | None = None) -> Path:
    """The history store beside the database: `derby_oa.duckdb` -> `derby_oa_history.duckdb`."""
    db_path = Path(db_path or config.db_path())
    return db_path.with_name(f"{db_path.stem}_history.duckdb")


@contextmanager
def _open_file(path: Path):
    """A read-only view of a database file through a fresh in-memory DuckDB (never a cached, replaced instance)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS snap (READ_ONLY)")
        con.execute("USE snap")
        visibility.restrict_to_published(con)  # the history is what viewers saw: drafts count once published
        yield con
    finally:
        con.close()


def tile_states(con) -> pd.DataFrame:
    """Each headline tile's state: latest period, direction, comparison with England, quartile, target statuses."""
    from derby_oa.analysis import comparisons
    from derby_oa import queries
    from derby_oa.queries import overview as overview_queries

    known = set(queries.indicators(con)["indicator_id"])
    items = [h for h in headlines.HEADLINES if h.indicator_id in known]
    metas = {h.indicator_id: queries.indicator(con, h.indicator_id) for h in items}
    obs = overview_queries.observations_for(con, headlines.headline_pairs(items), [config.DERBY, config.ENGLAND])
    tiles = headlines.compute_tiles(metas, obs, items)
    try:
        from derby_oa.analysis import targets

        statuses = targets.assess_all(con)
    except Exception:  # the states are recorded without target statuses rather than not at all
        log.exception("target assessment failed while recording the history")
        statuses = pd.DataFrame(columns=["indicator_id", "breakdown", "status", "target_year"])
    la = hq.la_values_for(con, headlines.headline_pairs(items))
    rows = []
    for t in tiles:
        quartile = None
        if t.has_data and metas[t.indicator_id]["polarity"] != "no_judgement":
            vals = la[(la["indicator_id"] == t.indicator_id) & (la["breakdown"] == t.breakdown)]
            vals = comparisons.prefer_published(vals[vals["value"].notna()])
            pos = comparisons.positions_from(vals, config.DERBY, [], metas[t.indicator_id]["polarity"])
            here = pos[pos["year"] == t.year]
            q = here["quartile"].iat[0] if len(here) else None
            quartile = q if isinstance(q, str) else None
        hits = statuses[(statuses["indicator_id"] == t.indicator_id) & (statuses["breakdown"] == t.breakdown)]
        target_text = "; ".join(
            f"{int(r['target_year']) if pd.notna(r.get('target_year')) else ''} target: {r['status']}".strip()
            for r in hits.to_dict("records"))
        rows.append({"tile_key": f"{t.indicator_id}:{t.breakdown}", "title": t.title, "period": t.period,
                     "direction": t.direction if t.since else ("no earlier year" if t.has_data else "no data"),
                     "vs_england": t.vs_england if t.has_data else "no data", "quartile": quartile,
                     "targets": target_text or None, "sources": "; ".join(t.sources)})
    return pd.DataFrame(rows, columns=["tile_key", "title", "period", "direction", "vs_england", "quartile",
                                       "targets", "sources"])


@dataclass
class _Before:
    snapshot: pd.DataFrame | None = None
    states: pd.DataFrame | None = None


def _read_before(db_path: Path, hist: Path) -> _Before:
    if not db_path.is_file():
        return _Before()
    with _open_file(db_path) as con:
        if "observations" not in hq.tables(con):
            return _Before()
        before = _Before(hq.snapshot(con))
        if not _has_states(hist):
            before.states = tile_states(con)
    return before


def _has_states(hist: Path) -> bool:
    if not hist.is_file():
        return False
    with _open_file(hist) as con:
        return "tile_states" in hq.tables(con) and hq.has_tile_states(con)


def _labelled(items: pd.DataFrame, con) -> pd.DataFrame:
    """Items with the indicator's title, unit and decimals, the area's name and the source's title."""
    if not len(items):
        return items.assign(title=None, area_name=None, unit=None, decimals=None, source_title=None)
    items = items.astype({c: object for c in ("indicator_id", "area_code", "source_id") if c in items})  # all-missing keys read as float
    ind = hq.indicator_titles(con)
    areas = hq.area_names(con)
    src = hq.source_titles(con).assign(source_title=lambda d: d["title"] + " (" + d["publisher"] + ")")
    out = items.merge(ind, on="indicator_id", how="left").merge(areas, on="area_code", how="left")
    out = out.merge(src[["source_id", "source_title"]], on="source_id", how="left")
    out["decimals"] = pd.to_numeric(out["decimals"], errors="coerce").astype("Int64")
    return out


def record(db_path: Path, trigger: str, before: _Before, now: dt.datetime | None = None) -> str:
    """Diff the database against `before`, write the change and the tiles' states to the store; return a summary."""
    hist = history_path(db_path)
    with _open_file(db_path) as con:
        after = hq.snapshot(con)
        first = before.snapshot is None
        items = pd.DataFrame(columns=changes.ITEM_COLUMNS) if first else changes.diff(before.snapshot, after)
        items = _labelled(items, con)
        states = tile_states(con)
        summary = (f"first record: {len(after):,} figures for {after['indicator_id'].nunique():,} indicators"
                   if first else changes.describe(items))
    stamp = (now or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    if not hist.is_file():
        seed = duckdb.connect(str(hist))
        try:
            hq.create(seed)
        finally:
            seed.close()

    def write(con) -> None:
        hq.create(con)
        change_id = hq.next_change_id(con)
        if before.states is not None and len(before.states) and not hq.has_tile_states(con):
            # the state before the first recorded change, so that the first meeting has something to compare with
            hq.insert_change(con, change_id, stamp - dt.timedelta(microseconds=1), f"state before {trigger}",
                             "tile states before history began", True)
            hq.insert_frame(con, "tile_states", before.states.assign(change_id=change_id))
            change_id += 1
        hq.insert_change(con, change_id, stamp, trigger, summary, first)
        hq.insert_frame(con, "change_items", items.assign(change_id=change_id))
        hq.insert_frame(con, "tile_states", states.assign(change_id=change_id))

    store.atomic_update(write, hist)
    return summary


@contextmanager
def recording(db_path: Path | str | None, trigger: str, report=None):
    """Record what the wrapped write changes in the database at `db_path` (one line in `report`, if given)."""
    db_path = Path(db_path or config.db_path())
    hist = history_path(db_path)
    try:
        before = _read_before(db_path, hist)
    except Exception:  # the write goes ahead; its history is marked as a first record
        log.exception("could not read the database before %s", trigger)
        before = _Before()
    yield
    try:
        summary = record(db_path, trigger, before)
        if report is not None:
            report.add("history", "recorded", f"{summary} (in {hist.name})")
    except Exception as exc:
        log.exception("could not record the change history")
        if report is not None:
            report.add("history", "failed", f"change not recorded: {type(exc).__name__}: {exc}")


# ------------------------------------------------------------------------------------------ reading

@dataclass
class SinceReport:
    """What changed since a date: sentences for the view and the pack, and the raw items as a table."""

    since: dt.date
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    items: pd.DataFrame = field(default_factory=pd.DataFrame)
    figure_sentences: list[str] = field(default_factory=list)
    tile_sentences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.figure_sentences and not self.tile_sentences

    @property
    def headline(self) -> str:
        if self.empty:
            return changes.no_change_sentence(self.since)
        n_fig = int(self.items["kind"].isin([changes.NEW, changes.REVISED, changes.REMOVED]).sum()) \
            if len(self.items) else 0
        return (f"Since {changes.since_label(self.since)}: {len(self.changes)} update"
                f"{'s' if len(self.changes) != 1 else ''} of the data ({n_fig:,} figures new, revised or withdrawn) "
                f"and {len(self.tile_sentences)} change{'s' if len(self.tile_sentences) != 1 else ''} in the "
                f"tiles' status.")

    def table(self) -> pd.DataFrame:
        """The figure changes as a table (one row per value)."""
        if not len(self.items):
            return pd.DataFrame(columns=["When", "What", "Indicator", "Pupil group", "Area", "Period", "Old value",
                                         "New value", "Source"])
        i = self.items
        return pd.DataFrame({
            "When": pd.to_datetime(i["recorded_at"]).dt.strftime("%Y-%m-%d %H:%M"), "What": i["kind"],
            "Indicator": i["title"].fillna(i["indicator_id"]), "Pupil group": i["breakdown"],
            "Area": i["area_name"].fillna(i["area_code"]), "Period": i["period"],
            "Old value": i["old_value"], "New value": i["new_value"],
            "Source": i["source_title"].fillna(i["source_id"])})


def since(db_path: Path | None, day: dt.date) -> SinceReport:
    """What changed after the start of `day` (UTC): figures, indicators, and tiles' states."""
    hist = history_path(db_path)
    report = SinceReport(day)
    if not hist.is_file():
        report.notes.append("No change history has been recorded yet: it starts with the next build or upload.")
        return report
    start = dt.datetime.combine(day, dt.time())
    with _open_file(hist) as con:
        if "changes" not in hq.tables(con):
            report.notes.append("No change history has been recorded yet.")
            return report
        recorded = hq.changes_since(con, start)
        report.changes = recorded[~recorded["trigger"].str.startswith("state before")]
        report.items = hq.items_since(con, start)
        first = report.changes[report.changes["first_record"]]
        for r in first.itertuples():
            report.notes.append(f"The history began with the {r.trigger} of {r.recorded_at:%d %B %Y}: "
                                f"{r.summary}; changes are listed from then on.")
        base = hq.last_change_before(con, start)
        latest = hq.last_change_with_states(con)
        if base is not None and latest is not None and latest != base:
            moved = changes.tile_changes(hq.tile_states_at(con, base), hq.tile_states_at(con, latest))
        else:
            moved = []
        if base is None and len(recorded):
            report.notes.append("No tile states were recorded before this date, so changes in the tiles' status "
                                "cannot be listed.")
    titles = dict(zip(report.items["source_id"], report.items["source_title"])) if len(report.items) else {}
    if db_path is not None or config.db_path().is_file():
        try:
            with _open_file(Path(db_path or config.db_path())) as con:
                src = hq.source_titles(con)
                titles.update({r.source_id: f"{r.title} ({r.publisher})" for r in src.itertuples()})
        except duckdb.Error:
            pass
    report.figure_sentences = changes.item_sentences(report.items)
    report.tile_sentences = changes.state_sentences(moved, titles)
    return report
