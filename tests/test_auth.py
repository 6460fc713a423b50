"""Who may do what (issue 10, sections 1 and 5): officers' sign-in, draft uploads, escaped text, incidents.

Sign-in is simulated under AppTest by `AppTest.user` (what `st.login` gives a session: `run_page(...,
officer=NAME)`) or, for the fallback accounts, by filling the sidebar form against `AppTest.secrets`.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from markdown_it import MarkdownIt

from apptest_support import OFFICER, run_page
from db_support import copy_database
from derby_oa.storage import db
from derby_oa.viz import exports
from derby_oa.uploads import loader
from derby_oa import passwords, queries
from derby_oa.queries import explore as xq
from derby_oa.queries import uploads as upload_queries
from derby_oa.queries import visibility
from derby_oa.text import md_escape

ROOT = Path(__file__).resolve().parent.parent
DERBY, ENGLAND = "E06000015", "E92000001"
SIGN_IN = "Sign in as an officer"
LINK = "[x](https://evil.example)"
IMAGE = "![p](https://evil.example/p.png)"


@pytest.fixture
def db_copy(full_db, tmp_path) -> Path:
    path = tmp_path / "derby_oa.duckdb"
    path.write_bytes(full_db.read_bytes())
    return path


def _write(path: Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()


def _check(path: Path, name: str, data: bytes) -> loader.Report:
    con = db.connect(path)
    try:
        return loader.validate(con, name, data)
    finally:
        con.close()


def _uploads(path: Path) -> pd.DataFrame:
    """The upload audit as written to the file now (read from a copy: this process's app holds the path open)."""
    fresh = path.with_name("fresh-" + path.name)
    fresh.write_bytes(path.read_bytes())
    con = db.connect(fresh)
    try:
        return upload_queries.uploads(con)
    finally:
        con.close()


def _template(*rows: str) -> bytes:
    return ("\n".join(["indicator_id,area_code,period,breakdown,value,numerator,denominator", *rows]) + "\n").encode()


# ---- passwords and the officer-hash command ---------------------------------------------------------------

def test_password_hashes_are_salted_and_verify_only_the_password():
    a, b = passwords.hash_password("correct horse battery"), passwords.hash_password("correct horse battery")
    assert a != b and a.startswith("scrypt:16384:8:1$")  # a fresh salt each time
    assert all(passwords.verify_password("correct horse battery", h) for h in (a, b))
    assert not passwords.verify_password("correct horse batterY", a)
    assert not passwords.verify_password("correct horse battery", "scrypt:16384:8:1$zz$00")
    assert not passwords.verify_password("x", "plain-text-password")
    with pytest.raises(ValueError, match="at least 12 characters"):
        passwords.hash_password("short")


def test_officer_hash_command_prints_secrets_lines_that_verify(cli):
    out = cli("officer-hash", "jsmith", "--name", "Jo Smith", stdin="a long pass phrase\na long pass phrase\n")
    assert out.returncode == 0, out.stderr
    section = tomllib.loads(out.stdout)["officers"]["jsmith"]
    assert section["name"] == "Jo Smith"
    assert passwords.verify_password("a long pass phrase", section["password_hash"])
    assert "a long pass phrase" not in out.stdout
    differ = cli("officer-hash", "jsmith", stdin="a long pass phrase\nanother pass phrase\n")
    assert differ.returncode == 1 and "the two passwords differ" in differ.stderr


# ---- anonymous visitors cannot write; officers can --------------------------------------------------------

WRITE_BUTTONS = ("Commit", "Undo", "Publish", "Remove", "Add local target", "Run")


def _writes(at) -> list[str]:
    """Every write control on the page (uploader, commit/undo/publish/remove buttons, the SQL box)."""
    found = [f"file_uploader {u.label}" for u in at.get("file_uploader")]
    found += [b.label for b in at.button if b.label.startswith(WRITE_BUTTONS)]
    found += [f"text_area {t.key}" for t in at.text_area if t.key == "sql-q"]
    return found


@pytest.mark.parametrize("page,params", [
    ("pages/load_data.py", {}), ("pages/load_data.py", {"view": "history"}),
    ("pages/load_data.py", {"view": "load", "ind": "gld", "col": "gld_percent"}),
    ("pages/sql.py", {}), ("pages/sql.py", {"q": "SELECT count(*) AS n FROM observations"}),
])
def test_anonymous_visitor_sees_no_write_controls_and_no_console(full_db, page, params):
    at = run_page(full_db, page, params)
    assert not at.exception
    assert _writes(at) == []
    assert any(SIGN_IN in i.value for i in at.info)
    assert not at.dataframe  # the console ran nothing, the history is not listed


def test_anonymous_visitor_cannot_add_or_remove_local_targets(db_copy):
    from derby_oa.analysis import targets

    targets.add_local_target({"target_id": "gld_local", "indicator_id": "gld", "breakdown": "all",
                              "kind": "exceed_comparator", "area_code": DERBY, "baseline_year": 2023,
                              "baseline_value": 63.3, "target_year": 2027, "target_value": None,
                              "plan_words": "", "comparator_area_code": ENGLAND,
                              "comparator_breakdown": None}, path=db_copy)
    at = run_page(db_copy, "pages/targets.py")
    assert not at.exception
    assert _writes(at) == []
    assert any(SIGN_IN in i.value and "local targets" in i.value for i in at.info)
    assert any("gld_local" in _MD.render(m.value) for m in at.markdown)  # the target itself is still shown
    officer = run_page(db_copy, "pages/targets.py", officer=OFFICER)
    assert {"Remove", "Add local target"} <= {b.label for b in officer.button}


def test_signed_in_officer_reaches_the_loader_and_the_console(full_db):
    load = run_page(full_db, "pages/load_data.py", officer=OFFICER)
    assert not load.exception
    assert len(load.get("file_uploader")) == 1
    assert not [t for t in load.text_input if t.key == "load-officer"]  # the name comes from the sign-in
    assert any(f"Local upload by {OFFICER}" in c.value for c in load.caption)
    sql = run_page(full_db, "pages/sql.py", {"q": "SELECT count(*) AS n FROM areas"}, officer=OFFICER)
    sql.button(key="sql-run").click().run()  # a query from a link waits for Run (tests/test_sql_page.py)
    assert not sql.exception and not sql.error
    assert sql.dataframe[0].value["n"].iloc[0] > 0


def test_identity_provider_users_outside_the_officer_list_are_visitors(full_db):
    roles = {"roles": {"officer_domains": ["derby.gov.uk"]}}
    outsider = run_page(full_db, "pages/sql.py", secrets=roles)
    outsider.user = {"is_logged_in": True, "name": "Someone", "email": "someone@example.org"}
    outsider.run()
    assert _writes(outsider) == [] and any(SIGN_IN in i.value for i in outsider.info)
    assert any("not an officer account" in c.value for c in outsider.sidebar.caption)
    officer = run_page(full_db, "pages/sql.py", officer=OFFICER, secrets=roles)  # test.officer@derby.gov.uk
    assert _writes(officer) == ["Run", "text_area sql-q"]


def _sign_in_with_password(at, username: str, password: str):
    at.sidebar.text_input(key="auth-user").set_value(username)
    at.sidebar.text_input(key="auth-password").set_value(password)
    next(b for b in at.sidebar.button if b.label == "Sign in").click()
    return at.run()


def test_fallback_account_signs_in_with_its_password_only(db_copy):
    accounts = {"officers": {"jsmith": {"name": "Jo Smith",
                                        "password_hash": passwords.hash_password("a long pass phrase")}}}
    _write(db_copy, f"DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                    f"AND area_code = '{ENGLAND}' AND breakdown = 'girls'")
    at = run_page(db_copy, "pages/load_data.py", secrets=accounts)
    assert _writes(at) == []
    _sign_in_with_password(at, "jsmith", "a long pass phrase!")
    assert _writes(at) == [] and any("wrong password" in e.value for e in at.sidebar.error)
    _sign_in_with_password(at, "jsmith", "a long pass phrase")
    assert not at.exception
    assert at.session_state["auth-password"] == ""  # the password does not stay in the session
    assert len(at.get("file_uploader")) == 1
    assert any("Jo Smith" in c.value for c in at.sidebar.caption)
    # The audit trail records the signed-in name: commit through the page.
    at.file_uploader(key="load-file").set_value(
        ("england_girls.csv", _template(f"gld,{ENGLAND},2018/19,girls,78.4,244297,311553"), "text/csv")).run()
    at.button(key="load-commit").click().run()
    assert not at.exception and not at.error
    history = _uploads(db_copy)
    assert history[["file_name", "publisher", "state"]].to_dict("records") == [
        {"file_name": "england_girls.csv", "publisher": "Local upload by Jo Smith", "state": "draft"}]
    at.sidebar.button(key="auth-sign-out").click().run()
    assert _writes(at) == []


# ---- drafts: unpublished uploads are for officers only ---------------------------------------------------

DRAFT_VALUE = 99.9  # Derby's GLD 2018/19 is 70.7 as published; the draft changes it to this


@pytest.fixture(scope="module")
def drafted_once(full_db, tmp_path_factory) -> Path:
    """The full build with one draft upload that changes Derby's GLD 2018/19 and adds England girls' 2018/19 row.

    Committed once for the module (a commit to the full build records its history: seconds); each test gets a
    copy (`drafted`)."""
    path = tmp_path_factory.mktemp("drafted") / "derby_oa.duckdb"
    path.write_bytes(full_db.read_bytes())
    _write(path, f"DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                 f"AND area_code = '{ENGLAND}' AND breakdown = 'girls'")
    report = _check(path, "draft.csv", _template(f"gld,{DERBY},2018/19,all,{DRAFT_VALUE},,",
                                                 f"gld,{ENGLAND},2018/19,girls,78.4,244297,311553"))
    assert not report.problems and len(report.new) == 1 and len(report.changed) == 1
    result = loader.commit(report, path, officer="EY lead", replace=True)
    assert not result.published
    return path


@pytest.fixture
def drafted(drafted_once, tmp_path) -> Path:
    """A copy of `drafted_once` with its uploads record and change history, as the commit left them."""
    return copy_database(drafted_once, tmp_path / "derby_oa.duckdb")


EXPLORE = {"ind": "gld", "area": f"{DERBY},{ENGLAND}", "bd": "all,girls", "view": "table", "from": "2019",
           "to": "2019"}


def _table(at) -> pd.DataFrame:
    """The explorer's tidy table indexed by area code and breakdown id."""
    from derby_oa.analysis.explore import BREAKDOWN_LABELS

    ids = {label: key for key, label in BREAKDOWN_LABELS.items()}
    table = at.dataframe[0].value
    return table.assign(Breakdown=table["Breakdown"].map(lambda b: ids.get(b, b))).set_index(["Area code", "Breakdown"])


def _chart_values(at) -> set[float]:
    out = set()
    for chart in at.get("vega_lite_chart"):
        for ds in chart.proto.datasets:
            frame = pa.ipc.open_stream(ds.data.data).read_all().to_pandas()
            for col in frame.select_dtypes("number"):
                out |= set(frame[col].dropna().round(1))
    return out


def test_viewers_never_see_a_draft_in_tables_charts_or_sources(drafted):
    viewer = run_page(drafted, "pages/explore.py", EXPLORE)
    assert not viewer.exception
    table = _table(viewer)
    assert table.loc[(DERBY, "all"), "Value"] == 70.7 and table.loc[(DERBY, "all"), "Source"] != "draft.csv"
    assert (ENGLAND, "girls") not in table.index  # the draft added it
    assert not viewer.warning  # no drafts notice for a viewer
    chart = run_page(drafted, "pages/explore.py", {**EXPLORE, "view": "chart", "bd": "all"})
    assert 70.7 in _chart_values(chart) and DRAFT_VALUE not in _chart_values(chart)
    trend = run_page(drafted, "pages/early_years.py", {"ind": "gld"})
    assert DRAFT_VALUE not in _chart_values(trend)
    sources = run_page(drafted, "pages/data_sources.py")
    assert not any("draft.csv" in m.value for m in sources.markdown)  # the sources table is drawn as HTML

    officer = run_page(drafted, "pages/explore.py", EXPLORE, officer=OFFICER)
    table = _table(officer)
    assert table.loc[(DERBY, "all"), "Value"] == DRAFT_VALUE and table.loc[(ENGLAND, "girls"), "Value"] == 78.4
    assert any("Draft data shown" in w.value and "draft.csv" in w.value for w in officer.warning)
    officer_trend = run_page(drafted, "pages/early_years.py", {"ind": "gld"}, officer=OFFICER)
    assert DRAFT_VALUE in _chart_values(officer_trend)
    # The viewer's cached results were not replaced by the officer's.
    assert DRAFT_VALUE not in _chart_values(run_page(drafted, "pages/early_years.py", {"ind": "gld"}))

    loader.publish(1, drafted)
    published = _table(run_page(drafted, "pages/explore.py", EXPLORE))
    assert published.loc[(DERBY, "all"), "Value"] == DRAFT_VALUE and (ENGLAND, "girls") in published.index


def test_query_layer_hides_drafts_from_every_query_and_export(drafted):
    con = db.connect(drafted)
    try:
        assert visibility.restrict_to_published(con) == 1
        obs = xq.observations(con, ["gld"], [DERBY, ENGLAND], ["all", "girls"], 2019, 2019)
        csv = exports.to_csv_bytes(obs).decode()
        series = queries.series(con, "gld", [DERBY], "all")
        counts = con.execute("SELECT count(*) FROM observations WHERE source_id = 'upload:1'").fetchone()[0]
        titles = set(queries.sources(con)["title"])
    finally:
        con.close()
    assert obs.set_index(["area_code", "breakdown"]).loc[(DERBY, "all"), "value"] == 70.7
    assert (ENGLAND, "girls") not in obs.set_index(["area_code", "breakdown"]).index
    assert str(DRAFT_VALUE) not in csv and "draft.csv" not in csv
    assert series.loc[series["period"] == "2018/19", "value"].tolist() == [70.7]
    assert counts == 0 and "draft.csv" not in titles


def test_drafts_chain_back_to_the_last_published_value(db_copy):
    """Draft over published upload over draft: the viewer sees the published upload's value."""
    def load(value: float, publish: bool) -> None:
        report = _check(db_copy, f"gld_{value}.csv", _template(f"gld,{DERBY},2018/19,all,{value},,"))
        loader.commit(report, db_copy, replace=True, published=publish)

    load(80.1, False)
    load(80.2, True)
    load(80.3, False)
    load(80.4, False)
    con = db.connect(db_copy)
    try:
        visibility.restrict_to_published(con)
        shown = queries.series(con, "gld", [DERBY], "all").set_index("period").loc["2018/19"]
    finally:
        con.close()
    assert (shown["value"], shown["source_id"]) == (80.2, "upload:2")
    loader.undo_last(db_copy)  # undo 80.4: still a draft (80.3) on top
    loader.publish(3, db_copy)
    con = db.connect(db_copy)
    try:
        assert visibility.drafts(con)["upload_id"].tolist() == [1]  # a draft, overwritten since
        assert visibility.restrict_to_published(con) == 1
        assert queries.series(con, "gld", [DERBY], "all").set_index("period").loc["2018/19", "value"] == 80.3
    finally:
        con.close()


def test_change_history_records_a_draft_only_when_it_is_published(drafted):
    """The 'since last meeting' history is what viewers saw: a draft shows up when it is published."""
    import datetime as dt

    from derby_oa.build import history

    def derby_gld(report) -> list:
        items = report.items
        if items.empty:
            return []
        rows = items[(items["indicator_id"] == "gld") & (items["area_code"] == DERBY) & (items["period"] == "2018/19")]
        return list(zip(rows["trigger"], rows["new_value"]))

    assert derby_gld(history.since(drafted, dt.date.today())) == []
    loader.publish(1, drafted)
    assert derby_gld(history.since(drafted, dt.date.today())) == [("publication of upload 1", DRAFT_VALUE)]


def test_publish_refuses_unknown_and_published_uploads(drafted):
    with pytest.raises(loader.CommitRefused, match="no upload 7"):
        loader.publish(7, drafted)
    loader.publish(1, drafted)
    with pytest.raises(loader.CommitRefused, match="already published"):
        loader.publish(1, drafted)


def test_officer_publishes_a_draft_on_the_history_view(drafted):
    at = run_page(drafted, "pages/load_data.py", {"view": "history"}, officer=OFFICER)
    assert at.dataframe[0].value["state"].tolist() == ["draft"]
    at.button(key="load-publish-draft").click().run()
    assert not at.exception and any("Published upload 1 (draft.csv)" in s.value for s in at.success)
    assert at.dataframe[0].value["state"].tolist() == ["published"]


def test_cli_commits_drafts_unless_told_to_publish(db_copy, cli):
    _write(db_copy, f"DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                    f"AND area_code = '{ENGLAND}' AND breakdown = 'girls'")

    def run(*args):
        return cli(*args, db=db_copy)

    done = run("load", str(ROOT / "data/upload_template.csv"), "--commit")
    assert done.returncode == 0 and "a draft that only signed-in officers see" in done.stdout
    published = run("publish-upload", "1")
    assert published.returncode == 0 and "Published upload 1 (upload_template.csv)" in published.stdout
    again = run("publish-upload", "1")
    assert again.returncode == 1 and "already published" in again.stderr


# ---- text that cannot become a link ------------------------------------------------------------------------

_MD = MarkdownIt("gfm-like", {"html": True})
_MD.linkify.set({"fuzzy_link": True, "fuzzy_email": True})


def _rendered(at) -> list[str]:
    """HTML of every piece of Markdown on the page: text elements, alerts, headings and widget labels."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        for name in ("body", "label", "help"):
            value = getattr(proto, name, None) if proto is not None else None
            if isinstance(value, str) and value:
                out.append(_MD.render(value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def _outside_links(at) -> list[str]:
    return [h for h in _rendered(at) if "<a " in h and "evil.example" in h or "<img" in h and "evil.example" in h]


def test_escape_leaves_no_link_image_or_html():
    for attack in (LINK, IMAGE, "<img src=https://evil.example/p.png>", "<https://evil.example>",
                   "see https://evil.example", "www.evil.example", "x@evil.example",
                   "- item\n[y](https://evil.example)"):
        html = _MD.render(md_escape(attack))
        assert "<a " not in html and "<img" not in html, (attack, html)
    # the same characters, as text (an invisible word joiner after "https:" stops GFM's bare-address links)
    assert _MD.render(md_escape(LINK)).replace("\u2060", "") == "<p>[x](https://evil.example)</p>\n"
    assert md_escape("GLD (FSM pupils): exceed England") == "GLD (FSM pupils): exceed England"


@pytest.mark.parametrize("page,names", [
    ("pages/wards.py", ["indicator", "vintage", "ward", "compare", "period", "breakdown", "map"]),
    ("pages/explore.py", ["q", "ind", "area", "group", "bd", "from", "to", "view", "chart"]),
    ("pages/early_years.py", ["ind", "bd", "sn", "group", "gapref"]),
    ("pages/targets.py", ["target", "improve"]),
    ("pages/data_sources.py", ["theme", "scope"]),
    ("pages/overview.py", ["present"]),
])
@pytest.mark.parametrize("attack", [LINK, IMAGE])
def test_link_parameters_are_shown_as_text(full_db, page, names, attack):
    at = run_page(full_db, page, {name: attack for name in names})
    assert not at.exception
    assert _outside_links(at) == []


def test_the_wards_indicator_link_from_the_issue_is_text(full_db):
    at = run_page(full_db, "pages/wards.py", {"indicator": LINK})
    notice = [i.value for i in at.info if "evil" in i.value]
    assert notice and _outside_links(at) == []
    assert "[x](https://evil.example)" in _MD.render(notice[0]).replace("\u2060", "")  # the reader still sees what the link asked for


@pytest.mark.parametrize("page,params", [
    ("pages/load_data.py", {"view": LINK, "ind": IMAGE, "bd": LINK, "col": IMAGE, "num": LINK, "den": IMAGE}),
    ("pages/sql.py", {"q": f"SELECT 1 FROM {LINK}"}),
])
def test_officer_pages_show_link_parameters_as_text(full_db, page, params):
    at = run_page(full_db, page, params, officer=OFFICER)
    assert not at.exception
    assert _outside_links(at) == []


def test_upload_file_name_officer_name_and_licence_are_shown_as_text(db_copy):
    """An officer named with Markdown loads a file named with Markdown under a Markdown licence: every
    page that shows them shows text."""
    name = "[x](https:evil.example) ![p](https:evil.example).csv"
    officer = "[boss](https://evil.example)"
    _write(db_copy, f"DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                    f"AND area_code = '{ENGLAND}' AND breakdown = 'girls'")
    at = run_page(db_copy, "pages/load_data.py", officer=officer)
    assert _outside_links(at) == []
    at.text_input(key="load-licence").set_value(IMAGE)
    at.file_uploader(key="load-file").set_value(
        (name, _template(f"gld,{ENGLAND},2018/19,girls,78.4,244297,311553"), "text/csv")).run()
    assert not at.exception and _outside_links(at) == []
    at.radio(key="load-publish").set_value("publish")
    at.button(key="load-commit").click().run()
    assert not at.exception and any("Loaded upload 1" in s.value for s in at.success)
    assert _outside_links(at) == []
    history = run_page(db_copy, "pages/load_data.py", {"view": "history"}, officer=officer)
    assert any(b.label.startswith("Undo upload 1") for b in history.button)
    assert _outside_links(history) == []
    for page, params in (("pages/explore.py", {**EXPLORE, "bd": "girls"}), ("pages/early_years.py", {"ind": "gld"}),
                         ("pages/data_sources.py", {})):
        viewer = run_page(db_copy, page, params)
        assert not viewer.exception and _outside_links(viewer) == [], page
    explorer = run_page(db_copy, "pages/explore.py", {**EXPLORE, "bd": "girls"})
    assert any("evil.example" in c.value for c in explorer.caption)  # the source note does name the upload


def test_local_target_description_is_shown_as_text(db_copy):
    from derby_oa.analysis import targets

    targets.add_local_target({"target_id": "gld_local", "indicator_id": "gld", "breakdown": "all",
                              "kind": "exceed_comparator", "area_code": DERBY, "baseline_year": 2023,
                              "baseline_value": 63.3, "target_year": 2027, "target_value": None,
                              "plan_words": f"{LINK} {IMAGE}", "comparator_area_code": ENGLAND,
                              "comparator_breakdown": None}, path=db_copy)
    at = run_page(db_copy, "pages/targets.py", {"target": "gld_local"}, officer=OFFICER)
    assert not at.exception
    assert any("evil.example" in h for h in _rendered(at))
    assert _outside_links(at) == []


# ---- errors and server settings ------------------------------------------------------------------------------

def test_unexpected_page_error_shows_an_incident_id_and_logs_the_details(full_db, monkeypatch, capfd):
    def boom(con):
        raise RuntimeError("secret detail /srv/derby_oa.duckdb")

    monkeypatch.setattr(queries, "has_published_data", boom)
    monkeypatch.delenv("DERBY_OA_PAGE_ERRORS", raising=False)
    at = run_page(full_db)  # the board overview, run through app.py's navigation
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "unexpected error (incident " in message and "secret detail" not in message
    incident = message.split("(incident ")[1].split(")")[0]
    log = capfd.readouterr().err
    assert f"incident {incident}" in log and "RuntimeError: secret detail" in log and "Traceback" in log


def test_server_listens_on_localhost_and_shows_no_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    assert config["client"]["showErrorDetails"] == "none"
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    assert all(line.startswith("#") or not line.strip() for line in example.splitlines())  # nothing live
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text().split()
