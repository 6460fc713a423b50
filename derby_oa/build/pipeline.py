"""Build the DuckDB database from scratch: reference data, the plan, and published sources.

Each published source is fetched (mirror, cache or network). On a first build, one it cannot
obtain is skipped with a one-line reason and the embedded default (the plan's figures) stands in.
A source the current database already holds is never replaced by the default: if its file is
missing or fails its hash, the build stops (`BuildRefused`) and the database is kept.

Every input is validated; the database is written to a temporary file and swapped in atomically,
so a failed build leaves the previous database untouched. The final step (restore officers'
uploads and local targets from their record, write, swap) holds the write lock.
"""
from __future__ import annotations

import importlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from derby_oa import config
from derby_oa.storage import db, store, write_lock
from derby_oa.build import fetch, history
from derby_oa.errors import BuildRefused, FetchError, InputError
from derby_oa.ingest import Bundle, Context, plan, reference
from derby_oa.storage.schema import DDL, OBS_KEY, check_observations, conform_observations

# Published sources in priority order: on a key present in two sources, the earlier one wins.
ADAPTERS = (
    "eyfsp_ees", "fingertips", "lait", "ncmp_obesity", "nomis", "slcn", "neighbours",
    "iod", "boundaries", "boundaries_2023",
    "dwp_cilif", "iod2019_small_area", "cilif_msoa", "ncmp_msoa", "census2021", "iod2025", "schools",
)


@dataclass
class BuildReport:
    """What the build did, one line per source."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (source, status, detail)

    def add(self, source: str, status: str, detail: str) -> None:
        self.lines.append((source, status, detail))

    def text(self) -> str:
        return "\n".join(f"{status:8} {source}: {detail}" for source, status, detail in self.lines)


def _adapter(name: str):
    return importlib.import_module(f"derby_oa.ingest.{name}")


def held_sources(path: Path) -> set[str]:
    """Published sources the database at `path` was built with (empty if none, or if it cannot be read)."""
    path = Path(path)
    if not path.is_file():
        return set()
    try:
        con = db.connect(path)
    except (duckdb.Error, OSError):
        return set()
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT source FROM build_log WHERE status = 'loaded'").fetchall()}
    except duckdb.Error:
        return set()
    finally:
        con.close()


def _lost_source(source_id: str, exc: FetchError, path: Path) -> BuildRefused:
    return BuildRefused(
        f"{exc.file or source_id}: expected SHA-256 {exc.expected or 'unknown'}, found {exc.actual or 'missing'} "
        f"({exc}). The current database {path} holds {source_id}, so it is kept: restore the file "
        f"(DERBY_OA_DATA_MIRROR or the cache), or pass --allow-fallback to build without it.")


def collect(report: BuildReport, adapters=ADAPTERS, held: set[str] = frozenset(),
            target: Path | None = None) -> tuple[Context, list[Bundle], dict]:
    """Read reference data and every obtainable published source into bundles.

    A source in `held` (the current database has it) that cannot be obtained raises BuildRefused.
    """
    ref = {"sources": reference.sources(), "indicators": reference.indicators(), "areas": reference.areas()}
    ctx = Context(ref["areas"], ref["indicators"], reference.source_codes())
    manifest = fetch.read_manifest()
    bundles = []
    for name in adapters:
        module = _adapter(name)
        try:
            paths = {f: fetch.fetch(f, manifest) for f in module.FILES}
        except FetchError as exc:
            if module.SOURCE_ID in held:
                raise _lost_source(module.SOURCE_ID, exc, target or config.db_path()) from None
            report.add(module.SOURCE_ID, "skipped", f"{exc}; using the embedded default")
            continue
        bundle = module.load(paths, ctx)
        n = 0 if bundle.observations is None else len(bundle.observations)
        report.add(module.SOURCE_ID, "loaded", f"{n:,} observations" + "".join(f"; {x}" for x in bundle.notes))
        bundles.append(bundle)
        if bundle.areas is not None:  # later adapters may refer to areas added by earlier ones
            ctx.areas = pd.concat([ctx.areas, bundle.areas], ignore_index=True).drop_duplicates("area_code")
    return ctx, bundles, ref


def assemble(ctx: Context, bundles: list[Bundle], ref: dict) -> dict[str, pd.DataFrame]:
    """Merge bundles into validated canonical tables."""
    areas = ctx.areas.reset_index(drop=True)
    extra_ind = [b.indicators for b in bundles if b.indicators is not None and len(b.indicators)]
    indicators = pd.concat([ref["indicators"], *extra_ind], ignore_index=True)
    dup = indicators["indicator_id"].duplicated()
    if dup.any():
        raise InputError("indicators", f"indicator id '{indicators.loc[dup].iloc[0].indicator_id}' defined twice",
                         field="indicator_id")
    ind_ids, area_codes = set(indicators["indicator_id"]), set(areas["area_code"])

    published = []
    for b in bundles:
        if b.observations is None or not len(b.observations):
            continue
        obs = conform_observations(b.observations)
        check_observations(obs, b.source_id, ind_ids, area_codes)
        published.append(obs)
    plan_obs = conform_observations(plan.load().observations)
    check_observations(plan_obs, "plan_figures.csv", ind_ids, area_codes)
    # Published series win over the plan's quoted figures; the plan fills keys nothing else has.
    obs = pd.concat([*published, plan_obs], ignore_index=True).drop_duplicates(OBS_KEY, keep="first")
    obs = obs.sort_values(OBS_KEY, kind="stable").reset_index(drop=True)
    source_of = obs.groupby("indicator_id")["source_id"].agg(lambda s: s.mode().iat[0])
    indicators["source_id"] = indicators["indicator_id"].map(source_of).fillna(indicators["source_id"])

    groups = [b.area_groups for b in bundles if b.area_groups is not None]
    lsoa = [b.lsoa_ward for b in bundles if b.lsoa_ward is not None]
    bounds = [b.boundaries for b in bundles if b.boundaries is not None]
    fits = [b.ward_fit for b in bundles if b.ward_fit is not None and len(b.ward_fit)]
    schools = [b.schools for b in bundles if b.schools is not None and len(b.schools)]
    figures = plan.figures()
    bad = ~figures["area_code"].isin(area_codes)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError("plan_figures.csv", f"unknown area code '{figures.iloc[i].area_code}'", row=i + 1, field="area_code")
    targets = plan.targets()
    bad = (targets["indicator_id"] != "") & ~targets["indicator_id"].isin(ind_ids)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError("plan_targets.csv", f"unknown indicator '{targets.iloc[i].indicator_id}'", row=i + 1, field="indicator_id")
    return {
        "sources": ref["sources"],
        "areas": areas,
        "area_groups": pd.concat(groups, ignore_index=True) if groups else None,
        "indicators": indicators,
        "observations": obs,
        "plan_figures": figures,
        "plan_activity": plan.activity(),
        "targets": targets,
        "lsoa_ward": pd.concat(lsoa, ignore_index=True) if lsoa else None,
        "boundaries": pd.concat(bounds, ignore_index=True) if bounds else None,
        "ward_fit": pd.concat(fits, ignore_index=True) if fits else None,
        "schools": pd.concat(schools, ignore_index=True) if schools else None,
    }


def write_database(tables: dict[str, pd.DataFrame | None], target: Path, report: BuildReport) -> None:
    """Write all tables to a temporary file beside `target`, then atomically replace it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp_name)  # DuckDB wants to create the file itself
    tmp = Path(tmp_name)
    try:
        con = duckdb.connect(str(tmp))
        try:
            for name, ddl in DDL.items():
                con.execute(ddl)
                df = tables.get(name)
                if df is not None and len(df):
                    cols = [c for c in df.columns]
                    con.register("_incoming", df)
                    con.execute(f"INSERT INTO {name} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _incoming")
                    con.unregister("_incoming")
            log = pd.DataFrame(report.lines, columns=["source", "status", "detail"]).assign(step="build")
            if len(log):
                con.register("_log", log)
                con.execute("INSERT INTO build_log SELECT step, source, status, detail FROM _log")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise


def keep_officer_data(tables: dict, kept: dict[str, pd.DataFrame], report: BuildReport) -> None:
    """Re-apply officers' uploads (they win over published rows) and local targets to fresh tables."""
    if not kept:
        return
    obs = kept.get("observations")
    if obs is not None:
        known = tables["observations"]
        ok = obs["indicator_id"].isin(tables["indicators"]["indicator_id"]) & obs["area_code"].isin(tables["areas"]["area_code"])
        obs = conform_observations(obs[ok])
        merged = pd.concat([obs, known], ignore_index=True).drop_duplicates(OBS_KEY, keep="first")
        tables["observations"] = merged.sort_values(OBS_KEY, kind="stable").reset_index(drop=True)
        report.add("uploads", "kept", f"{len(obs):,} uploaded observations re-applied"
                   + (f"; {int((~ok).sum())} dropped (area or indicator not in this build)" if (~ok).any() else ""))
    if "targets" in kept:
        tables["targets"] = pd.concat([tables["targets"], kept["targets"][tables["targets"].columns]], ignore_index=True)
        report.add("local targets", "kept", f"{len(kept['targets'])} local targets")
    if "sources" in kept:
        tables["sources"] = pd.concat([tables["sources"], kept["sources"][tables["sources"].columns]], ignore_index=True)
    for name in ("uploads", "upload_rows"):
        if name in kept:
            tables[name] = kept[name]


def build(target: Path | None = None, adapters=ADAPTERS, discard_uploads: bool = False,
          allow_fallback: bool = False) -> BuildReport:
    """Build the database at `target` (default `config.db_path()`); return the report.

    Officers' uploads and local targets are restored from their record (see `store`); if they cannot
    be read the build raises `store.DatabaseDamaged` unless `discard_uploads`. A published source the
    current database holds that cannot be obtained raises `BuildRefused` unless `allow_fallback`.
    """
    target = Path(target or config.db_path())
    report = BuildReport()
    held = set() if allow_fallback else held_sources(target)
    ctx, bundles, ref = collect(report, adapters, held, target)
    if adapters and not bundles:
        report.add("embedded default", "default", "no published file could be obtained: the database holds "
                                                  "the delivery plan's own figures only")
    tables = assemble(ctx, bundles, ref)
    with write_lock.hold(target, "a build"):
        kept, note = store.kept_for_build(target, discard_uploads)
        if note:
            report.add("uploads", "discarded", note)
        keep_officer_data(tables, kept, report)
        n = len(tables["observations"])
        report.add("database", "written", f"{n:,} observations, {len(tables['areas']):,} areas, "
                                          f"{len(tables['indicators']):,} indicators")
        record = config.uploads_record_path(target)
        if not record.is_file():
            store.write_record(kept, record)
        with history.recording(target, "build", report):  # what this build changed, kept beside the database
            write_database(tables, target, report)
    return report
