"""Build the DuckDB database from scratch: reference data, the plan, and published sources.

Each published source is fetched (mirror, cache or network); one it cannot obtain is skipped
with a one-line reason and the embedded default (the plan's figures) stands in. Every input is
validated; the database is written to a temporary file and swapped in atomically, so a failed
build leaves the previous database untouched.
"""
from __future__ import annotations

import importlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from . import config, fetch, store
from .errors import FetchError, InputError
from .ingest import Bundle, Context, plan, reference
from .schema import DDL, OBS_KEY, check_observations, conform_observations

# Published sources in priority order: on a key present in two sources, the earlier one wins.
ADAPTERS = (
    "eyfsp_ees", "fingertips", "lait", "ncmp_obesity", "nomis", "slcn", "neighbours",
    "iod", "boundaries", "boundaries_2023",
    "dwp_cilif", "iod2019_small_area", "cilif_msoa", "ncmp_msoa",
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


def collect(report: BuildReport, adapters=ADAPTERS) -> tuple[Context, list[Bundle], dict]:
    """Read reference data and every obtainable published source into bundles."""
    ref = {"sources": reference.sources(), "indicators": reference.indicators(), "areas": reference.areas()}
    ctx = Context(ref["areas"], ref["indicators"], reference.source_codes())
    manifest = fetch.read_manifest()
    bundles = []
    for name in adapters:
        module = _adapter(name)
        try:
            paths = {f: fetch.fetch(f, manifest) for f in module.FILES}
        except FetchError as exc:
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


def build(target: Path | None = None, adapters=ADAPTERS) -> BuildReport:
    """Build the database at `target` (default `config.db_path()`); return the report.

    Officers' uploads and local targets in the existing database are kept.
    """
    target = Path(target or config.db_path())
    report = BuildReport()
    ctx, bundles, ref = collect(report, adapters)
    tables = assemble(ctx, bundles, ref)
    keep_officer_data(tables, store.officer_tables(target), report)
    n = len(tables["observations"])
    report.add("database", "written", f"{n:,} observations, {len(tables['areas']):,} areas, "
                                      f"{len(tables['indicators']):,} indicators")
    write_database(tables, target, report)
    return report
