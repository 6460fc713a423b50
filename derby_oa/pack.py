"""The board pack: the meeting's paper as a PDF (A4 landscape), made offline from the database.

Pages: a cover (date, what changed since the last meeting), the overview tiles with their trend lines, each
priority's headline charts with their tables, the targets with their statuses and the rule, ward highlights,
and the sources and licence page. Charts are the app's own Altair/Vega-Lite specs (`charts.trend_chart`,
`sparklines.spec`) drawn by vl-convert to SVG and placed as vector drawings (svglib, reportlab), so the pack
and the screen never disagree. No browser and no network are used.
"""
from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from derby_oa.viz import charts, sparklines
from derby_oa.analysis import comparisons, headlines, narrative, targets
from derby_oa import config, queries, stats
from derby_oa.build import history
from derby_oa.queries import overview as overview_queries

PAGE_TITLE = "Derby Opportunity Area partnership board: board pack"
FONT_CANDIDATES = {
    "normal": ["/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
               "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
    "bold": ["/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
             "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
}
TARGET_SYMBOLS = targets.STATUS_SYMBOLS


# ------------------------------------------------------------------------------------------ fonts

_FONTS: tuple[str, str] | None = None


def _fonts() -> tuple[str, str]:
    """(regular, bold) font names: a Unicode TrueType font (for − ↑ ✔) when the system has one, else Helvetica."""
    global _FONTS
    if _FONTS:
        return _FONTS
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    found = {w: next((p for p in paths if Path(p).is_file()), None) for w, paths in FONT_CANDIDATES.items()}
    if found["normal"] and found["bold"]:
        pdfmetrics.registerFont(TTFont("PackSans", found["normal"]))
        pdfmetrics.registerFont(TTFont("PackSans-Bold", found["bold"]))
        pdfmetrics.registerFontFamily("PackSans", normal="PackSans", bold="PackSans-Bold")
        try:  # charts name Arial/Helvetica: draw them with the same font
            from svglib.fonts import register_font

            for name in ("Arial", "Helvetica", "sans-serif"):
                register_font(name, found["normal"], rlgFontName="PackSans")
                register_font(name, found["bold"], weight="bold", rlgFontName="PackSans-Bold")
        except Exception:  # svglib falls back to Helvetica for chart text
            pass
        _FONTS = ("PackSans", "PackSans-Bold")
    else:
        _FONTS = ("Helvetica", "Helvetica-Bold")
    return _FONTS


def _styles():
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = _fonts()
    ink, grey, blue = HexColor("#0B0C0C"), HexColor("#505A5F"), HexColor("#12436D")
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=24, leading=29, textColor=blue, spaceAfter=8),
        "h1": ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, textColor=ink, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12, leading=15, textColor=ink, spaceBefore=4,
                             spaceAfter=3),
        "body": ParagraphStyle("body", fontName=regular, fontSize=10, leading=13, textColor=ink, spaceAfter=3),
        "small": ParagraphStyle("small", fontName=regular, fontSize=8, leading=10, textColor=ink),
        "note": ParagraphStyle("note", fontName=regular, fontSize=8, leading=10, textColor=grey),
        "tile_title": ParagraphStyle("tt", fontName=bold, fontSize=9, leading=11, textColor=ink),
        "tile_value": ParagraphStyle("tv", fontName=bold, fontSize=16, leading=19, textColor=ink),
        "bullet": ParagraphStyle("bullet", fontName=regular, fontSize=9.5, leading=12.5, textColor=ink,
                                 leftIndent=10, bulletIndent=0, spaceAfter=2),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=7.5, leading=9.2, textColor=ink),
        "cell_bold": ParagraphStyle("cellb", fontName=bold, fontSize=7.5, leading=9.2, textColor=ink),
    }


def _p(text, style) -> "Paragraph":
    from reportlab.platypus import Paragraph

    return Paragraph(escape(str(text)), style)


# ------------------------------------------------------------------------------------------ drawings

def svg_drawing(svg: str, width: float | None = None, height: float | None = None):
    """An SVG (from vl-convert) as a reportlab Drawing scaled to fit `width` x `height` points."""
    from reportlab import rl_config
    from svglib.svglib import svg2rlg

    _fonts()
    rl_config.shapeChecking = 0  # svglib builds thousands of shapes; checking each attribute took most of the time
    drawing = svg2rlg(io.BytesIO(svg.encode("utf-8")))
    if drawing is None:
        raise ValueError("the chart's SVG could not be read")
    scale = min((width or drawing.width) / drawing.width, (height or drawing.height) / drawing.height)
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    drawing.scale(scale, scale)
    return drawing


def chart_svg(chart, width: int = 640) -> str:
    """An Altair chart (width "container" in the app) as SVG at a fixed width, through vl-convert."""
    import vl_convert as vlc

    chart = chart.properties(width=width) if getattr(chart, "width", None) == "container" else chart
    spec = chart.to_dict(validate=False)  # the app draws the same spec; validating it again costs seconds
    return vlc.vegalite_to_svg(spec)


# ------------------------------------------------------------------------------------------ content

def _tiles(con) -> tuple[list[headlines.Tile], pd.DataFrame, dict[str, dict]]:
    known = set(queries.indicators(con)["indicator_id"])
    items = [h for h in headlines.HEADLINES if h.indicator_id in known]
    metas = {h.indicator_id: queries.indicator(con, h.indicator_id) for h in items}
    obs = overview_queries.observations_for(con, headlines.headline_pairs(items), [config.DERBY, config.ENGLAND])
    return headlines.compute_tiles(metas, obs, items), obs, metas


def _statuses(con) -> pd.DataFrame:
    try:
        from derby_oa.analysis import targets

        return targets.assess_all(con)
    except Exception:  # the pack says so rather than failing
        return pd.DataFrame()


def _fmt(v, decimals) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "x"
    return f"{float(v):,.{int(decimals)}f}"


def _table(rows: list[list], widths: list[float], styles: dict, header_rows: int = 1, zebra: bool = True):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table, TableStyle

    data = [[c if not isinstance(c, str) else _p(c, styles["cell_bold"] if i < header_rows else styles["cell"])
             for c in row] for i, row in enumerate(rows)]
    table = Table(data, colWidths=widths, repeatRows=header_rows)
    cmds = [("GRID", (0, 0), (-1, -1), 0.25, HexColor("#B1B4B6")),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), HexColor("#F3F2F1")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    table.setStyle(TableStyle(cmds))
    return table


def _cover(story, styles, since: dt.date, today: dt.date, report: history.SinceReport, db_path) -> None:
    from reportlab.platypus import Spacer

    story.append(_p(PAGE_TITLE, styles["title"]))
    story.append(_p(f"Prepared {changes_label(today)} from the dashboard's database. Every figure is from a named "
                    f"publication (see the last page); 'x' means not available.", styles["body"]))
    story.append(Spacer(1, 8))
    story.append(_p(f"What changed since the last meeting ({changes_label(since)})", styles["h1"]))
    story.append(_p(report.headline, styles["body"]))
    for note in report.notes:
        story.append(_p(note, styles["note"]))
    shown = report.tile_sentences[:12] + report.figure_sentences[:max(0, 24 - min(12, len(report.tile_sentences)))]
    for sentence in shown:
        story.append(_p(sentence, styles["bullet"]))
    rest = len(report.tile_sentences) + len(report.figure_sentences) - len(shown)
    if rest > 0:
        story.append(_p(f"... and {rest} more changes; the dashboard's 'Since last meeting' view lists them all.",
                        styles["note"]))


def changes_label(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _tile_cell(tile: headlines.Tile, line, statuses: pd.DataFrame, styles, width: float) -> list:
    from reportlab.platypus import Spacer

    cell = [_p(f"{headlines.PRIORITY_SHORT.get(tile.priority, tile.priority).upper()}", styles["note"]),
            _p(tile.title, styles["tile_title"])]
    if not tile.has_data:
        return cell + [_p("No data: nothing published or loaded for Derby yet.", styles["small"])]
    cell.append(_p(f"{narrative.format_value(tile.derby, tile.unit, tile.decimals)} in {tile.period}",
                   styles["tile_value"]))
    facts = [f"England {narrative.format_value(tile.england, tile.unit, tile.decimals)}"
             if tile.england is not None else "England: no figure"]
    if tile.gap is not None:
        facts.append(f"gap {narrative.format_signed(tile.gap, tile.unit, tile.decimals)}")
    cell.append(_p(" · ".join(facts), styles["small"]))
    marks = [f"{'↑' if tile.since and tile.since.change > 0 else '↓' if tile.since and tile.since.change < 0 else '→'} "
             f"{tile.direction if tile.since else 'one year only: no trend'}",
             {stats.BETTER: "better than England", stats.SIMILAR: "similar to England",
              stats.WORSE: "worse than England"}.get(tile.vs_england, "vs England: cannot be judged")]
    if len(statuses):
        hits = statuses[(statuses["indicator_id"] == tile.indicator_id) & (statuses["breakdown"] == tile.breakdown)]
        for r in hits.to_dict("records"):
            year = r.get("target_year")
            marks.append(f"{TARGET_SYMBOLS.get(r['status'], '')} "
                         f"{int(year) if year is not None and not pd.isna(year) else ''} target: {r['status']}")
    cell.append(_p(" | ".join(marks), styles["cell_bold"]))
    if line is not None:
        cell.append(Spacer(1, 2))
        cell.append(svg_drawing(line, width=width - 8, height=40))
    cell.append(_p(tile.short_sentence, styles["small"]))
    return cell


def _tiles_pages(story, styles, tiles, obs, metas, statuses) -> None:
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import PageBreak, Table, TableStyle

    story.append(PageBreak())
    story.append(_p("Board overview: how Derby compares with England", styles["h1"]))
    story.append(_p("Each tile: Derby's latest figure, England's, the gap (Derby minus England), direction of travel "
                    "since the plan's 2015/16 baseline (or the first comparable year) and plan targets. Lines: Derby "
                    "solid with dots, England dashed with squares, the large mark the latest year; a dotted rule is "
                    "a series break, never joined across.", styles["note"]))
    width, cols = 770 / 5, 5
    cells = []
    for t in tiles:
        meta = metas[t.indicator_id]
        frame = sparklines.trend_frame(obs, t.indicator_id, t.breakdown, int(meta.get("decimals", 1)))
        spec = sparklines.spec(frame, meta)
        svg = sparklines.to_svg(spec) if spec else None
        cells.append(_tile_cell(t, svg, statuses, styles, width))
    rows = [cells[i:i + cols] + [""] * (cols - len(cells[i:i + cols])) for i in range(0, len(cells), cols)]
    table = Table(rows, colWidths=[width] * cols)
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.25, HexColor("#B1B4B6")),
                               ("INNERGRID", (0, 0), (-1, -1), 0.25, HexColor("#B1B4B6")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    story.append(table)


def trend_rows(frame: pd.DataFrame, meta: dict) -> list[list[str]]:
    """The trend chart's data as table rows: period, then one column per series (x where no value)."""
    shown = frame[frame["series"].isin(charts.PREFERRED_ORDER)]
    if shown.empty:
        return [["Period"]]
    labels = charts.period_labels(shown)
    wide = shown.pivot_table(index="year", columns="series", values="value", aggfunc="first", dropna=False)
    order = [s for s in charts.PREFERRED_ORDER if s in wide.columns]
    d = int(meta.get("decimals", 1))
    breaks = set(meta.get("series_breaks", []))
    rows = [["Period"] + [s.replace(" (average)", " avg") for s in order]]
    for year, r in wide[order].iterrows():
        label = labels.get(int(year), str(year)) + (" (new series)" if int(year) in breaks else "")
        rows.append([label] + [_fmt(r[s], d) for s in order])
    return rows


def _priority_pages(story, styles, con, tiles: list[headlines.Tile], metas) -> int:
    from reportlab.platypus import KeepTogether, PageBreak, Table, TableStyle

    groups = [g for g in (config.SN_GROUP_CURRENT, config.SN_GROUP_PLAN) if len(queries.group_members(con, g))]
    group_id = groups[0] if groups else config.SN_GROUP_CURRENT
    n = 0
    for priority, name in headlines.PRIORITIES.items():
        mine = [t for t in tiles if t.priority == priority and t.has_data]
        for i, tile in enumerate(mine):
            meta = metas[tile.indicator_id]
            frame = comparisons.comparison_frame(con, tile.indicator_id, tile.breakdown, group_id=group_id,
                                                 neighbours="average" if groups else "none")
            shown = frame[frame["value"].notna()] if len(frame) else frame
            if shown.empty:
                continue
            story.append(PageBreak())
            story.append(_p(f"{name}: {tile.title}", styles["h1"]))
            story.append(_p(tile.sentence, styles["body"]))
            chart = charts.trend_chart(frame, meta, height=300)
            drawing = svg_drawing(chart_svg(chart, 560), width=470, height=380)
            rows = trend_rows(frame, meta)
            ncol = len(rows[0])
            table = _table(rows, [62] + [(265 - 62) / max(1, ncol - 1)] * (ncol - 1), styles)
            layout = Table([[drawing, table]], colWidths=[480, 280])
            layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(KeepTogether([layout]))
            story.append(_p(f"Definition: {meta.get('definition') or ''} Chart and table: Derby, England, the East "
                            f"Midlands and Derby's statistical neighbours (average); gaps are years with no value "
                            f"or a series break, never joined. Source: {', '.join(tile.sources)}.", styles["note"]))
            n += 1
    return n


def _targets_page(story, styles, statuses: pd.DataFrame) -> None:
    from reportlab.platypus import PageBreak

    from derby_oa.analysis import targets

    story.append(PageBreak())
    story.append(_p("Targets and their status", styles["h1"]))
    story.append(_p(getattr(targets, "GENERAL_RULE", ""), styles["note"]))
    if statuses is None or statuses.empty:
        story.append(_p("No target could be assessed.", styles["body"]))
        return
    rows = [["Target", "Pupil group", "By", "Status", "Why"]]
    for r in statuses.to_dict("records"):
        year = r.get("target_year")
        rows.append([str(r.get("title") or r.get("target_id")),
                     headlines.BREAKDOWN_LABELS.get(r.get("breakdown"), r.get("breakdown") or ""),
                     str(int(year)) if year is not None and not pd.isna(year) else "",
                     f"{TARGET_SYMBOLS.get(r['status'], '')} {r['status']}", str(r.get("detail") or "")])
    story.append(_table(rows, [200, 70, 35, 70, 385], styles))
    rules = getattr(targets, "RULES", {})
    if isinstance(rules, dict) and rules:
        story.append(_p("The rules", styles["h2"]))
        for kind, rule in rules.items():
            story.append(_p(f"{kind}: {rule}", styles["small"]))


def ward_highlights(con) -> pd.DataFrame:
    """For each outcome indicator with ward values (latest period, current wards): highest and lowest ward."""
    from derby_oa.analysis.wards import ranking as wards
    from derby_oa.queries import wards as ward_queries

    available = ward_queries.ward_indicators(con)
    rows = []
    for vintage in (config.WARD_VINTAGE_CURRENT, config.WARD_VINTAGE_PLAN):
        ids = [i for i in wards.indicator_options(available, vintage)
               if available.loc[available["indicator_id"] == i, "theme"].iat[0] != "context"]
        for ind in ids:
            if any(r["indicator_id"] == ind for r in rows):
                continue
            periods = ward_queries.ward_periods(con, ind, vintage)
            if periods.empty:
                continue
            period = periods["period"].iat[-1]
            meta = queries.indicator(con, ind)
            values = ward_queries.ward_values(con, ind, period, vintage)
            ranked = wards.ranking(values, meta)
            have = ranked[ranked["value"].notna()]
            if len(have) < 2:
                continue
            rows.append({"indicator_id": ind, "Indicator": meta["title"], "Period": period,
                         "Wards": f"{len(have)} of {len(ranked)} ({vintage})",
                         "Highest": f"{have['area_name'].iat[0]} {have['label'].iat[0]}",
                         "Lowest": f"{have['area_name'].iat[-1]} {have['label'].iat[-1]}",
                         "Source": str(values["source_title"].dropna().iat[0]) if values["source_title"].notna().any()
                         else ""})
    return pd.DataFrame(rows)


def _wards_page(story, styles, con) -> None:
    from reportlab.platypus import PageBreak

    story.append(PageBreak())
    story.append(_p("Ward highlights", styles["h1"]))
    story.append(_p("For each indicator held for Derby's wards, the latest period's highest and lowest ward "
                    "(whether high is good depends on the indicator). The Wards page maps every ward.",
                    styles["note"]))
    try:
        table = ward_highlights(con)
    except Exception as exc:  # the pack is still made; the page says why it is empty
        story.append(_p(f"Ward figures could not be read ({type(exc).__name__}).", styles["body"]))
        return
    if table.empty:
        story.append(_p("No ward figures are loaded.", styles["body"]))
        return
    rows = [["Indicator", "Period", "Wards with data", "Highest", "Lowest", "Source"]]
    rows += [[r["Indicator"], r["Period"], r["Wards"], r["Highest"], r["Lowest"], r["Source"]]
             for r in table.to_dict("records")]
    story.append(_table(rows, [200, 50, 90, 130, 130, 160], styles))


def _sources_page(story, styles, con) -> None:
    from reportlab.platypus import PageBreak

    story.append(PageBreak())
    story.append(_p("Sources and licence", styles["h1"]))
    story.append(_p("Contains public sector information licensed under the Open Government Licence v3.0. Each "
                    "figure in this pack comes from one of the publications below; officers' uploads name the "
                    "officer and the file.", styles["body"]))
    src = queries.sources(con)
    rows = [["Source", "Publisher", "Licence", "Attribution"]]
    for r in src.to_dict("records"):
        rows.append([str(r.get("title") or r.get("source_id")), str(r.get("publisher") or ""),
                     str(r.get("licence") or ""), str(r.get("attribution") or "")])
    story.append(_table(rows, [210, 170, 120, 260], styles))


def build_pack(con, since: dt.date, db_path: Path | None = None, today: dt.date | None = None) -> bytes:
    """The board pack as PDF bytes (A4 landscape)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    today = today or dt.date.today()
    styles = _styles()
    regular, _ = _fonts()
    report = history.since(db_path, since)
    tiles, obs, metas = _tiles(con)
    statuses = _statuses(con)
    story: list = []
    _cover(story, styles, since, today, report, db_path)
    _tiles_pages(story, styles, tiles, obs, metas, statuses)
    _priority_pages(story, styles, con, tiles, metas)
    _targets_page(story, styles, statuses)
    _wards_page(story, styles, con)
    _sources_page(story, styles, con)

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawString(12 * mm, 7 * mm, f"{PAGE_TITLE}, {changes_label(today)}")
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 7 * mm, f"Page {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=10 * mm, bottomMargin=12 * mm, title=PAGE_TITLE,
                            author="Derby Opportunity Area dashboard", subject=f"Since {since.isoformat()}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def write_pack(out: Path, since: dt.date, db_path: Path | None = None) -> Path:
    """Write the pack for the database at `db_path` (default the configured one) to `out`."""
    from derby_oa.storage import db

    db_path = Path(db_path or config.db_path())
    con = db.connect(db_path)
    try:
        data = build_pack(con, since, db_path)
    finally:
        con.close()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out
